package io.llmstream.trainer.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.llmstream.trainer.Decoder;
import io.llmstream.trainer.Gpt;
import io.llmstream.trainer.Llama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints transformers wrote (../shared/models/*-fp32/model.safetensors) load into our decoders and give
 * transformers' own float32 logits (hf_logits.json, every position of a prompt) within 1e-4; what we cannot train
 * is refused naming the field.
 */
class HuggingFaceCheckpointTest {
    private static final Path MODELS = Path.of(System.getProperty("llmstream.shared", "../../shared")).resolve("models");
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-fp32", "llama-fp32", "qwen2-fp32"})
    void givesTransformersLogitsAtEveryPosition(String fixture) throws IOException {
        Path dir = MODELS.resolve(fixture);
        JsonNode expected = JSON.readTree(dir.resolve("hf_logits.json").toFile());
        long[] prompt = new long[expected.path("prompt").size()];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = expected.path("prompt").get(i).asLong();
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Decoder model = HuggingFaceCheckpoint.load(dir, manager);
            assertThat(model).isInstanceOf(fixture.startsWith("gpt2") ? Gpt.class : Llama.class);
            float[] logits = model.logits(manager.create(prompt, new Shape(1, prompt.length))).toFloatArray();
            int vocab = model.vocabSize();
            float worst = 0;
            for (int t = 0; t < prompt.length; t++) {
                JsonNode row = expected.path("logits").get(t);
                assertThat(row.size()).isEqualTo(vocab);
                for (int v = 0; v < vocab; v++) {
                    worst = Math.max(worst, Math.abs(logits[t * vocab + v] - (float) row.get(v).asDouble()));
                }
            }
            assertThat(worst).as("largest difference from transformers' logits").isLessThan(1e-4f);
        }
    }

    @Test
    void refusesWhatItCannotTrainNamingTheField(@TempDir Path tmp) throws IOException {
        assertRefused(tmp, c -> c.put("model_type", "falcon"), "model_type 'falcon' is not supported");
        assertRefused(tmp, c -> c.put("model_type", "gpt2").put("activation_function", "relu"),
                "activation_function 'relu' is not supported");
        assertRefused(tmp, c -> ((ObjectNode) c.path("rope_parameters")).put("rope_type", "llama3"),
                "rope_type 'llama3' is not supported");
        assertRefused(tmp, c -> c.put("hidden_act", "gelu"), "hidden_act 'gelu' is not supported");
        assertRefused(tmp, c -> c.put("attention_bias", true), "attention_bias true is not supported");
        assertRefused(tmp, c -> c.put("num_hidden_layers", 1), "tensor 'model.layers.1.input_layernorm.weight' has no place");
        assertRefused(tmp, c -> c.put("intermediate_size", 96), "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [128, 64], the config makes it [96, 64]");
    }

    private static void assertRefused(Path tmp, Consumer<ObjectNode> edit, String message) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "ckpt");
        Path source = MODELS.resolve("llama-fp32");
        Files.copy(source.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        ObjectNode config = (ObjectNode) JSON.readTree(source.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> HuggingFaceCheckpoint.load(dir, manager))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
        }
    }
}
