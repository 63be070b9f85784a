package io.llmstream.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Writes the model directory the inference worker loads ({@code <models-root>/<name>/<version>/}):
 * {@code model.onnx} (see {@link OnnxExporter}), {@code tokenizer.json} (copied), {@code genai_config.json} (the same
 * model described for onnxruntime-genai) and {@code model.json} (the manifest, with the SHA-256 of every other file).
 * The directory appears complete or not at all: it is written next to its final place and renamed.
 */
public final class ModelArtifactWriter {

    public static final String MODEL_FILE = "model.onnx";
    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String GENAI_CONFIG_FILE = "genai_config.json";
    public static final String MANIFEST_FILE = "model.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public record SpecialTokens(int bos, int eos, int pad) {}

    /** What the caller knows about the model beyond its weights. */
    public record ModelInfo(String name, String version, SpecialTokens specialTokens, String tokenizerFingerprint,
                            Map<String, Double> metrics) {}

    /** The decoder's shape as the manifest states it; kvHeads == heads (no grouped-query attention). */
    public record Architecture(String type, int vocabSize, int contextLength, int layers, int heads, int kvHeads,
                               int dModel, int dFF) {}

    /** Contents of model.json. */
    public record ModelManifest(String name, String version, Architecture architecture, SpecialTokens specialTokens,
                                String tokenizerFingerprint, Map<String, Double> metrics, Map<String, String> files,
                                String createdAt) {}

    private ModelArtifactWriter() {}

    /**
     * Writes the directory, which must not exist yet (a published version is never overwritten).
     *
     * @return the manifest written as model.json
     */
    public static ModelManifest write(Gpt model, ModelInfo info, Path tokenizerJson, Path directory) throws IOException {
        if (Files.exists(directory)) {
            throw new FileAlreadyExistsException(directory.toString(), null, "model versions are immutable");
        }
        Path parent = directory.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = parent.resolve("." + directory.getFileName() + ".tmp-" + UUID.randomUUID());
        Files.createDirectory(temporary);
        try {
            GptConfig c = model.config();
            Files.write(temporary.resolve(MODEL_FILE), OnnxExporter.export(model));
            Files.copy(tokenizerJson, temporary.resolve(TOKENIZER_FILE));
            JSON.writeValue(temporary.resolve(GENAI_CONFIG_FILE).toFile(), genaiConfig(c, info.specialTokens()));

            Map<String, String> files = new TreeMap<>();
            for (String name : List.of(MODEL_FILE, TOKENIZER_FILE, GENAI_CONFIG_FILE)) {
                files.put(name, FileTrees.sha256(temporary.resolve(name)));
            }
            Architecture architecture = new Architecture("gpt2", c.vocabSize(), c.contextLength(), c.layers(),
                    c.heads(), c.heads(), c.dModel(), c.dFF());
            ModelManifest manifest = new ModelManifest(info.name(), info.version(), architecture, info.specialTokens(),
                    info.tokenizerFingerprint(), new TreeMap<>(info.metrics()), files, Instant.now().toString());
            JSON.writeValue(temporary.resolve(MANIFEST_FILE).toFile(), manifest);
            Files.move(temporary, directory, StandardCopyOption.ATOMIC_MOVE);
            return manifest;
        } catch (IOException | RuntimeException e) {
            FileTrees.delete(temporary);
            throw e;
        }
    }

    /** onnxruntime-genai's description of a decoder; our graph concatenates the cache, so buffers are not shared. */
    static ObjectNode genaiConfig(GptConfig c, SpecialTokens special) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "gpt2");
        model.put("bos_token_id", special.bos());
        model.put("eos_token_id", special.eos());
        model.put("pad_token_id", special.pad());
        model.put("context_length", c.contextLength());
        model.put("vocab_size", c.vocabSize());
        ObjectNode decoder = model.putObject("decoder");
        ObjectNode session = decoder.putObject("session_options");
        session.put("log_id", "onnxruntime-genai");
        session.putArray("provider_options");
        decoder.put("filename", MODEL_FILE);
        decoder.put("head_size", c.headDim());
        decoder.put("hidden_size", c.dModel());
        decoder.put("num_attention_heads", c.heads());
        decoder.put("num_hidden_layers", c.layers());
        decoder.put("num_key_value_heads", c.heads());
        ObjectNode inputs = decoder.putObject("inputs");
        inputs.put("input_ids", OnnxExporter.INPUT_IDS);
        inputs.put("attention_mask", OnnxExporter.ATTENTION_MASK);
        inputs.put("position_ids", OnnxExporter.POSITION_IDS);
        inputs.put("past_key_names", OnnxExporter.PAST_KEY);
        inputs.put("past_value_names", OnnxExporter.PAST_VALUE);
        ObjectNode outputs = decoder.putObject("outputs");
        outputs.put("logits", OnnxExporter.LOGITS);
        outputs.put("present_key_names", OnnxExporter.PRESENT_KEY);
        outputs.put("present_value_names", OnnxExporter.PRESENT_VALUE);
        ObjectNode search = root.putObject("search");
        search.put("diversity_penalty", 0.0);
        search.put("do_sample", false);
        search.put("early_stopping", true);
        search.put("length_penalty", 1.0);
        search.put("max_length", c.contextLength());
        search.put("min_length", 0);
        search.put("no_repeat_ngram_size", 0);
        search.put("num_beams", 1);
        search.put("num_return_sequences", 1);
        search.put("past_present_share_buffer", false);
        search.put("repetition_penalty", 1.0);
        search.put("temperature", 1.0);
        search.put("top_k", 1);
        search.put("top_p", 1.0);
        return root;
    }
}
