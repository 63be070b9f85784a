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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    void aShardedCheckpointWithBfloat16TensorsLoadsThemWidenedExactly(@TempDir Path tmp) throws IOException {
        // llama-fp32's tensors in two shards, as save_pretrained(max_shard_size=...) writes them: the first shard
        // rounded to bfloat16 (round to nearest even, as torch's .to(torch.bfloat16)), the second float32
        Path source = MODELS.resolve("llama-fp32");
        SafeTensors original = SafeTensors.open(source.resolve(HuggingFaceCheckpoint.WEIGHTS));
        List<String> names = new ArrayList<>(original.entries().keySet());
        List<String> first = names.subList(0, names.size() / 2);
        Map<String, float[]> expected = new LinkedHashMap<>();
        Map<String, SafeTensors.Tensor> second = new LinkedHashMap<>();
        ObjectNode weightMap = JSON.createObjectNode();
        for (String name : names) {
            float[] values = original.floats(name);
            if (first.contains(name)) {
                float[] rounded = new float[values.length];
                for (int i = 0; i < values.length; i++) {
                    rounded[i] = Float.intBitsToFloat(bfloat16(values[i]) << 16);
                }
                expected.put(name, rounded);
                weightMap.put(name, "model-00001-of-00002.safetensors");
            } else {
                expected.put(name, values);
                second.put(name, new SafeTensors.Tensor(original.entries().get(name).shape(), values));
                weightMap.put(name, "model-00002-of-00002.safetensors");
            }
        }
        Files.copy(source.resolve("config.json"), tmp.resolve("config.json"));
        writeBfloat16(tmp.resolve("model-00001-of-00002.safetensors"), original, first);
        SafeTensors.write(tmp.resolve("model-00002-of-00002.safetensors"), second, Map.of("format", "pt"));
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata");
        index.set("weight_map", weightMap);
        JSON.writeValue(tmp.resolve(HuggingFaceCheckpoint.WEIGHTS_INDEX).toFile(), index);

        try (NDManager manager = NDManager.newBaseManager()) {
            Decoder model = HuggingFaceCheckpoint.load(tmp, manager);
            for (var p : model.namedParameters()) {
                assertThat(p.parameter().getArray().toFloatArray()).as(p.name()).containsExactly(expected.get(p.name()));
            }
            assertThat(original.entries().get(first.get(0)).dtype()).isEqualTo("F32");
            assertThat(SafeTensors.open(tmp.resolve("model-00001-of-00002.safetensors")).entries().get(first.get(0))
                    .dtype()).isEqualTo("BF16");
        }
    }

    private static int bfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
    }

    private static void writeBfloat16(Path file, SafeTensors from, List<String> names) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (String name : names) {
            SafeTensors.Entry e = from.entries().get(name);
            ObjectNode entry = header.putObject(name);
            entry.put("dtype", "BF16");
            entry.set("shape", JSON.valueToTree(e.shape()));
            entry.putArray("data_offsets").add(offset).add(offset + 2 * e.elements());
            offset += 2 * e.elements();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        for (String name : names) {
            for (float v : from.floats(name)) {
                out.putShort((short) bfloat16(v));
            }
        }
        Files.write(file, out.array());
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
