package io.llmstream.trainer.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HuggingFace's safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the raw little-endian tensors. Read a tensor at a time from the file (a checkpoint of
 * many GB never sits in the heap whole), as float32 whatever it is stored as (F32, F16, BF16); written as F32.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Larger headers are not safetensors (the format caps them at 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    /** A tensor's place in its file. */
    public record Entry(String dtype, long[] shape, long begin, long end) {
        public long elements() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact);
        }
    }

    private final Path file;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final long dataStart;

    private SafeTensors(Path file, Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {
        this.file = file;
        this.entries = entries;
        this.metadata = metadata;
        this.dataStart = dataStart;
    }

    /**
     * Reads the header of {@code file}.
     *
     * @throws IllegalArgumentException naming the file and what is wrong when it is not a safetensors file
     */
    public static SafeTensors open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, length, 0);
            long headerLength = length.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > channel.size()) {
                throw new IllegalArgumentException(file + ": not a safetensors file (header length " + headerLength + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            JsonNode root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            long dataLength = channel.size() - 8 - headerLength;
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (field.getKey().equals("__metadata__")) {
                    field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                JsonNode t = field.getValue();
                long[] shape = new long[t.path("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = t.path("shape").get(i).asLong();
                }
                Entry e = new Entry(t.path("dtype").asText(), shape, t.path("data_offsets").path(0).asLong(),
                        t.path("data_offsets").path(1).asLong());
                if (e.begin() < 0 || e.end() > dataLength || e.end() < e.begin()) {
                    throw new IllegalArgumentException(file + ": tensor '" + field.getKey() + "' lies outside the file");
                }
                entries.put(field.getKey(), e);
            }
            return new SafeTensors(file, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata),
                    8 + headerLength);
        }
    }

    /** Every tensor, in the header's order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The tensor's values as float32, row-major.
     *
     * @throws IllegalArgumentException naming the tensor when it is missing, of another dtype, or of the wrong size
     */
    public float[] floats(String name) throws IOException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(file + " has no tensor '" + name + "'");
        }
        int width = switch (e.dtype()) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new IllegalArgumentException(file + ": tensor '" + name + "' is " + e.dtype()
                    + "; supported: F32, F16, BF16");
        };
        long elements = e.elements();
        if (elements * width != e.end() - e.begin() || elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has " + (e.end() - e.begin())
                    + " bytes for shape " + Arrays.toString(e.shape()) + " of " + e.dtype());
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) (e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            readFully(channel, bytes, dataStart + e.begin());
        }
        bytes.flip();
        float[] out = new float[(int) elements];
        switch (e.dtype()) {
            case "F32" -> bytes.asFloatBuffer().get(out);
            case "F16" -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = halfToFloat(bytes.getShort(2 * i));
                }
            }
            default -> { // BF16: the high half of a float32
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat((bytes.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
        }
        return out;
    }

    /** A tensor to write: its shape and float32 values, row-major. */
    public record Tensor(long[] shape, float[] values) {}

    /** Writes {@code tensors} (in their order) as F32, with {@code metadata} in the header's {@code __metadata__}. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
            long[] shape = t.getValue().shape();
            if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != t.getValue().values().length) {
                throw new IllegalArgumentException("tensor '" + t.getKey() + "': shape " + Arrays.toString(shape)
                        + " does not hold " + t.getValue().values().length + " values");
            }
            ObjectNode entry = header.putObject(t.getKey());
            entry.put("dtype", "F32");
            Arrays.stream(shape).forEach(entry.putArray("shape")::add);
            long end = offset + 4L * t.getValue().values().length;
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(head.flip());
            for (Tensor t : tensors.values()) {
                ByteBuffer data = ByteBuffer.allocate(4 * t.values().length).order(ByteOrder.LITTLE_ENDIAN);
                data.asFloatBuffer().put(t.values());
                while (data.hasRemaining()) {
                    channel.write(data);
                }
            }
        }
    }

    /** IEEE 754 binary16 to binary32, exactly (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int bits = half & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = bits >>> 10 & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | mantissa << 13);
        }
        if (exponent == 0) { // zero or subnormal: mantissa x 2^-24, exact in float32
            float value = mantissa * 0x1p-24f;
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | exponent + 112 << 23 | mantissa << 13);
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new IOException("unexpected end of " + channel);
            }
            at += n;
        }
    }
}
