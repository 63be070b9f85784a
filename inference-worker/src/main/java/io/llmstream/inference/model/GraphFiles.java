package io.llmstream.inference.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.schemas.model.ModelFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * Which ONNX file of a model directory is served. Downloads hold one or several: Optimum writes {@code model.onnx}
 * (older exports {@code decoder_model_merged.onnx}); onnx-community repositories keep dtype variants in {@code onnx/}
 * ({@code model.onnx}, {@code model_fp16.onnx}, {@code model_q4.onnx}, {@code model_int8.onnx}, ...); onnxruntime-genai
 * names its file in {@code genai_config.json}. The choice, in order: the {@code model.variant} setting, then
 * genai_config.json's decoder file, then {@code model.onnx} (beside the config or in {@code onnx/}), then the legacy
 * merged decoder, then the first variant present in the provider's order of preference.
 */
final class GraphFiles {
    static final String SUBFOLDER = "onnx";
    static final String MERGED = "decoder_model_merged.onnx";
    /** The variants without a setting, best first: exact float32 on the CPU, float16 where CUDA runs it natively. */
    private static final List<String> CPU_ORDER = List.of("fp32", "fp16", "q4", "q4f16", "int8", "uint8", "quantized",
            "bnb4");
    private static final List<String> CUDA_ORDER = List.of("fp16", "fp32", "q4f16", "q4", "int8", "uint8", "quantized",
            "bnb4");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The file chosen and why, for the log. */
    record Choice(Path file, String reason) {}

    private GraphFiles() {}

    static Choice choose(Path dir, String variant, ExecutionProvider provider) throws IOException {
        if (variant != null && !variant.isBlank()) {
            Path file = find(dir, fileName(variant));
            if (file == null) {
                throw new ModelLoadException("model.variant=" + variant + ": no " + fileName(variant) + " in the "
                        + "directory or its " + SUBFOLDER + "/ folder (graphs there: " + graphs(dir) + ")");
            }
            return new Choice(file, "model.variant=" + variant);
        }
        Path genai = dir.resolve(ModelFiles.GENAI_CONFIG);
        if (Files.isRegularFile(genai)) {
            JsonNode name = JSON.readTree(genai.toFile()).path("model").path("decoder").path("filename");
            if (name.isTextual() && Files.isRegularFile(dir.resolve(name.asText()))) {
                return new Choice(dir.resolve(name.asText()), ModelFiles.GENAI_CONFIG + " names it");
            }
        }
        for (String name : List.of(ModelFiles.MODEL, MERGED)) {
            Path file = find(dir, name);
            if (file != null) {
                return new Choice(file, name.equals(MERGED) ? "the legacy merged decoder, the only graph"
                        : "the float32 graph, no model.variant set");
            }
        }
        List<String> order = provider == ExecutionProvider.CUDA ? CUDA_ORDER : CPU_ORDER;
        for (String v : order) {
            Path file = find(dir, fileName(v));
            if (file != null) {
                return new Choice(file, "the first of " + order + " present, no model.variant set");
            }
        }
        throw new ModelLoadException("no ONNX graph: neither " + ModelFiles.MODEL + " nor " + MERGED + " nor a "
                + "model_<variant>.onnx, in the directory or its " + SUBFOLDER + "/ folder");
    }

    /**
     * Whether the graph quantizes activations dynamically ({@code DynamicQuantizeLinear}, or ONNX Runtime's fused
     * {@code DynamicQuantizeMatMul}): one scale for a whole tensor, so a row's result depends on the other rows and the
     * padding of its batch. Found by the op name's bytes in the file (streamed; weights in external data are not read).
     */
    static boolean quantizesActivationsPerTensor(Path file) throws IOException {
        byte[] pattern = "DynamicQuantize".getBytes(StandardCharsets.US_ASCII);
        byte[] buffer = new byte[1 << 20];
        int kept = 0; // the tail of the previous chunk, so a name cut by a chunk boundary is still found
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer, kept, buffer.length - kept)) > 0; ) {
                int end = kept + n;
                if (contains(buffer, end, pattern)) {
                    return true;
                }
                kept = Math.min(pattern.length - 1, end);
                System.arraycopy(buffer, end - kept, buffer, 0, kept);
            }
        }
        return false;
    }

    private static boolean contains(byte[] data, int length, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** fp32 is the plain {@code model.onnx}; any other variant {@code model_<variant>.onnx}. */
    static String fileName(String variant) {
        return variant.equals("fp32") ? ModelFiles.MODEL : "model_" + variant + ".onnx";
    }

    private static Path find(Path dir, String name) {
        for (Path candidate : List.of(dir.resolve(name), dir.resolve(SUBFOLDER).resolve(name))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static List<String> graphs(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        for (Path folder : List.of(dir, dir.resolve(SUBFOLDER))) {
            if (Files.isDirectory(folder)) {
                try (Stream<Path> files = Files.list(folder)) {
                    files.filter(p -> p.getFileName().toString().endsWith(".onnx"))
                            .forEach(p -> names.add(dir.relativize(p).toString()));
                }
            }
        }
        Collections.sort(names);
        return names;
    }
}
