package io.llmstream.schemas.serde;

import java.io.EOFException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * Avro binary decoding of one byte-array slice that checks every length and item count against the bytes left, so a
 * corrupt length fails at once instead of making the datum reader allocate gigabytes (Avro's own limits are JVM-wide
 * system properties with defaults near 2^31).
 *
 * <p>The count bound assumes every array or map item takes at least one byte, which holds for every type except
 * {@code null}, empty records and zero-size fixed; collections of those are refused when longer than the bytes left.
 * Not thread-safe: one instance per payload.
 */
final class BoundedBinaryDecoder extends Decoder {
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final byte[] buf;
    private final int limit;
    private int pos;

    BoundedBinaryDecoder(byte[] buf, int offset, int length) {
        this.buf = buf;
        this.pos = offset;
        this.limit = offset + length;
    }

    /** Bytes not consumed yet; non-zero after a complete datum means trailing garbage. */
    int remaining() {
        return limit - pos;
    }

    @Override
    public void readNull() {}

    @Override
    public boolean readBoolean() throws IOException {
        require(1, "boolean");
        byte b = buf[pos++];
        if (b != 0 && b != 1) {
            throw new IOException("invalid boolean byte 0x" + Integer.toHexString(b & 0xff) + " at offset "
                    + (pos - 1));
        }
        return b == 1;
    }

    @Override
    public int readInt() throws IOException {
        long raw = readVarint(5);
        if ((raw >>> 32) != 0) {
            throw new IOException("int varint overflows 32 bits before offset " + pos);
        }
        int n = (int) raw;
        return (n >>> 1) ^ -(n & 1);
    }

    @Override
    public long readLong() throws IOException {
        long raw = readVarint(10);
        return (raw >>> 1) ^ -(raw & 1);
    }

    @Override
    public float readFloat() throws IOException {
        require(4, "float");
        float value = Float.intBitsToFloat((int) INT_LE.get(buf, pos));
        pos += 4;
        return value;
    }

    @Override
    public double readDouble() throws IOException {
        require(8, "double");
        double value = Double.longBitsToDouble((long) LONG_LE.get(buf, pos));
        pos += 8;
        return value;
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        int length = length("string");
        Utf8 result = old == null ? new Utf8() : old;
        result.setByteLength(length);
        System.arraycopy(buf, pos, result.getBytes(), 0, length);
        pos += length;
        return result;
    }

    @Override
    public String readString() throws IOException {
        int length = length("string");
        String result = new String(buf, pos, length, StandardCharsets.UTF_8);
        pos += length;
        return result;
    }

    @Override
    public void skipString() throws IOException {
        skip(length("string"));
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        int length = length("bytes");
        ByteBuffer result = ByteBuffer.wrap(Arrays.copyOfRange(buf, pos, pos + length));
        pos += length;
        return result;
    }

    @Override
    public void skipBytes() throws IOException {
        skip(length("bytes"));
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        require(length, "fixed");
        System.arraycopy(buf, pos, bytes, start, length);
        pos += length;
    }

    @Override
    public void skipFixed(int length) throws IOException {
        require(length, "fixed");
        pos += length;
    }

    @Override
    public int readEnum() throws IOException {
        return readInt();
    }

    @Override
    public long readArrayStart() throws IOException {
        return blockCount("array");
    }

    @Override
    public long arrayNext() throws IOException {
        return blockCount("array");
    }

    @Override
    public long skipArray() throws IOException {
        return skipBlocks("array");
    }

    @Override
    public long readMapStart() throws IOException {
        return blockCount("map");
    }

    @Override
    public long mapNext() throws IOException {
        return blockCount("map");
    }

    @Override
    public long skipMap() throws IOException {
        return skipBlocks("map");
    }

    @Override
    public int readIndex() throws IOException {
        return readInt();
    }

    /** Reads a zig-zag varint's raw bits (at most {@code maxBytes} bytes, as Avro writes them). */
    private long readVarint(int maxBytes) throws IOException {
        long raw = 0;
        for (int i = 0; i < maxBytes; i++) {
            require(1, "varint");
            byte b = buf[pos++];
            raw |= (long) (b & 0x7f) << (7 * i);
            if (b >= 0) {
                return raw;
            }
        }
        throw new IOException("varint longer than " + maxBytes + " bytes before offset " + pos);
    }

    /** The item count of the next block; a negative count is followed by the block's byte size, not needed here. */
    private long blockCount(String kind) throws IOException {
        long count = readLong();
        if (count < 0) {
            count = -count;
            readLong();
        }
        checkCount(count, kind);
        return count;
    }

    /** Skips blocks that carry their byte size; returns the item count of the first block that does not (0 = end). */
    private long skipBlocks(String kind) throws IOException {
        long count = readLong();
        while (count < 0) {
            long size = readLong();
            if (size < 0 || size > remaining()) {
                throw new IOException(kind + " block size " + size + " exceeds the " + remaining() + " bytes left");
            }
            pos += (int) size;
            count = readLong();
        }
        checkCount(count, kind);
        return count;
    }

    private void checkCount(long count, String kind) throws IOException {
        if (count < 0 || count > remaining()) {
            throw new IOException(kind + " block claims " + count + " items but only " + remaining()
                    + " bytes are left (corrupt length)");
        }
    }

    // Not "pos += length(..)": Java reads pos before length() advances it past the length varint.
    private void skip(int bytes) {
        pos += bytes;
    }

    private int length(String kind) throws IOException {
        long length = readLong();
        if (length < 0) {
            throw new IOException("negative " + kind + " length " + length + " before offset " + pos);
        }
        if (length > remaining()) {
            throw new IOException(kind + " length " + length + " exceeds the " + remaining() + " bytes left");
        }
        return (int) length;
    }

    private void require(int bytes, String kind) throws EOFException {
        if (bytes < 0 || bytes > remaining()) {
            throw new EOFException("truncated payload: " + kind + " needs " + bytes + " bytes at offset " + pos
                    + ", " + remaining() + " left");
        }
    }
}
