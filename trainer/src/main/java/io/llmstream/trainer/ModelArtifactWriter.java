package io.llmstream.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.llmstream.ops.FileTrees;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.schemas.model.ModelManifest.Architecture;
import io.llmstream.schemas.model.ModelManifest.SpecialTokens;
import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.trainer.hf.HuggingFaceExport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes the model directory the inference worker loads ({@code <models-root>/<name>/<version>/}):
 * {@code model.onnx} (see {@link OnnxExporter}), {@code tokenizer.json} (copied, when there is one),
 * {@code genai_config.json} (the same model described for onnxruntime-genai), the HuggingFace checkpoint
 * ({@code config.json}, {@code generation_config.json}, {@code model.safetensors}: see {@link HuggingFaceExport}) and
 * with the training metrics, {@code metrics.csv} and {@code loss.png} (see {@link MetricsLog}), and
 * {@code model.json} (the {@link ModelManifest}, with the SHA-256 of every other file).
 * The directory appears complete or not at all: it is written next to its final place and renamed.
 */
public final class ModelArtifactWriter {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Logger log = LoggerFactory.getLogger(ModelArtifactWriter.class);

    /**
     * What the caller knows about the model beyond its weights.
     *
     * @param tokenizerName the tokenizer's name, which the worker loads when the directory holds no tokenizer.json
     */
    public record ModelInfo(String name, String version, SpecialTokens specialTokens, String tokenizerName,
                            String tokenizerFingerprint, Map<String, Double> metrics) {}

    /** The run's {@link MetricsLog} file and the step the model was exported at (later rows are left out). */
    public record TrainingMetrics(Path csv, long step) {}

    private ModelArtifactWriter() {}

    /** {@link #write(Decoder, ModelInfo, Path, TrainingMetrics, Path)} without training metrics. */
    public static ModelManifest write(Decoder model, ModelInfo info, Path tokenizerJson, Path directory)
            throws IOException {
        return write(model, info, tokenizerJson, null, directory);
    }

    /**
     * Writes the directory, which must not exist yet (a published version is never overwritten).
     *
     * @param tokenizerJson the tokenizer.json to copy in, or null for a built-in encoding (jtokkit's rank files have no
     *                      HuggingFace form here); the manifest then lists no tokenizer.json and names the encoding
     * @param training      the run's metrics to copy and draw, or null (or a missing file) for none
     * @return the manifest written as model.json
     */
    public static ModelManifest write(Decoder model, ModelInfo info, Path tokenizerJson, TrainingMetrics training,
                                      Path directory) throws IOException {
        if (Files.exists(directory)) {
            throw new FileAlreadyExistsException(directory.toString(), null, "model versions are immutable");
        }
        Path parent = directory.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = parent.resolve("." + directory.getFileName() + ".tmp-" + UUID.randomUUID());
        Files.createDirectory(temporary);
        try {
            ModelConfig c = model.config();
            List<String> written = new ArrayList<>(List.of(ModelFiles.MODEL, ModelFiles.GENAI_CONFIG));
            Files.write(temporary.resolve(ModelFiles.MODEL), OnnxExporter.export(model));
            JSON.writeValue(temporary.resolve(ModelFiles.GENAI_CONFIG).toFile(), genaiConfig(c, info.specialTokens()));
            HuggingFaceExport.write(model, info.specialTokens(), temporary);
            written.addAll(HuggingFaceExport.FILES);
            if (tokenizerJson != null) {
                Files.copy(tokenizerJson, temporary.resolve(ModelFiles.TOKENIZER));
                written.add(ModelFiles.TOKENIZER);
            }
            if (training != null && Files.exists(training.csv())) {
                List<MetricsLog.Row> rows = MetricsLog.copyUpTo(training.csv(), training.step(),
                        temporary.resolve(ModelFiles.METRICS));
                written.add(ModelFiles.METRICS);
                if (drawLossCurve(rows, info, temporary.resolve(ModelFiles.LOSS_CURVE))) {
                    written.add(ModelFiles.LOSS_CURVE);
                }
            }
            Architecture architecture = new Architecture(c.type(), c.vocabSize(), c.contextLength(), c.layers(),
                    c.heads(), c.kvHeads(), c.dModel(), c.dFF(), c.classLabels());
            ModelManifest manifest = new ModelManifest(info.name(), info.version(), architecture, info.specialTokens(),
                    info.tokenizerName(), info.tokenizerFingerprint(), info.metrics(),
                    ModelManifest.digests(temporary, written), Instant.now().toString());
            manifest.write(temporary);
            Files.move(temporary, directory, StandardCopyOption.ATOMIC_MOVE);
            return manifest;
        } catch (IOException | RuntimeException e) {
            FileTrees.delete(temporary);
            throw e;
        }
    }

    /** onnxruntime-genai's description of a decoder; our graph concatenates the cache, so buffers are not shared. */
    static ObjectNode genaiConfig(ModelConfig c, SpecialTokens special) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", c.type());
        model.put("bos_token_id", special.bos());
        model.put("eos_token_id", special.eos());
        model.put("pad_token_id", special.pad());
        model.put("context_length", c.contextLength());
        model.put("vocab_size", c.vocabSize() + c.classLabels().size()); // the graph's logits, head included
        ObjectNode decoder = model.putObject("decoder");
        ObjectNode session = decoder.putObject("session_options");
        session.put("log_id", "onnxruntime-genai");
        session.putArray("provider_options");
        decoder.put("filename", ModelFiles.MODEL);
        decoder.put("head_size", c.headDim());
        decoder.put("hidden_size", c.dModel());
        decoder.put("num_attention_heads", c.heads());
        decoder.put("num_hidden_layers", c.layers());
        decoder.put("num_key_value_heads", c.kvHeads());
        ObjectNode inputs = decoder.putObject("inputs");
        inputs.put("input_ids", OnnxNames.INPUT_IDS);
        inputs.put("attention_mask", OnnxNames.ATTENTION_MASK);
        inputs.put("position_ids", OnnxNames.POSITION_IDS);
        inputs.put("past_key_names", OnnxNames.PAST_KEY);
        inputs.put("past_value_names", OnnxNames.PAST_VALUE);
        ObjectNode outputs = decoder.putObject("outputs");
        outputs.put("logits", OnnxNames.LOGITS);
        outputs.put("present_key_names", OnnxNames.PRESENT_KEY);
        outputs.put("present_value_names", OnnxNames.PRESENT_VALUE);
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

    /**
     * Draws the loss curve; a picture is not worth a failed export, so a JVM that cannot draw (a container image
     * without fonts, say) writes the version without it and says why.
     */
    private static boolean drawLossCurve(List<MetricsLog.Row> rows, ModelInfo info, Path png) throws IOException {
        try {
            LossCurve.write(rows, info.name() + " " + info.version(), png);
            return true;
        } catch (RuntimeException | LinkageError | java.awt.AWTError | InternalError e) {
            Files.deleteIfExists(png);
            log.warn("model {} {}: no {} ({}); {} is there", info.name(), info.version(), ModelFiles.LOSS_CURVE, e,
                    ModelFiles.METRICS);
            return false;
        }
    }
}
