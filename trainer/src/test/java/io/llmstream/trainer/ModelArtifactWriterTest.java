package io.llmstream.trainer;

import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelArtifactWriterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void writesALoadableModelDirectoryWithManifestAndGenaiConfig() throws Exception {
        GptConfig config = new GptConfig(30, 16, 2, 2, 16, 32, 0f, true);
        Path tokenizer = Files.writeString(dir.resolve("source-tokenizer.json"), "{\"model\":{\"type\":\"BPE\"}}");
        Path target = dir.resolve("models/tiny/3");
        ModelArtifactWriter.ModelInfo info = new ModelArtifactWriter.ModelInfo("tiny", "3",
                new ModelManifest.SpecialTokens(1, 2, 0), "tiny-bpe", "sha256:abc", Map.of("validation_loss", 1.5));

        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt model = Gpt.create(config, manager, 1);
            ModelArtifactWriter.write(model, info, tokenizer, target);

            assertThatThrownBy(() -> ModelArtifactWriter.write(model, info, tokenizer, target))
                    .isInstanceOf(FileAlreadyExistsException.class);
        }

        try (var list = Files.list(target.getParent())) {
            assertThat(list.map(p -> p.getFileName().toString())).containsExactly("3"); // no temporary left behind
        }
        JsonNode manifest = JSON.readTree(target.resolve("model.json").toFile());
        assertThat(manifest.get("name").asText()).isEqualTo("tiny");
        assertThat(manifest.get("version").asText()).isEqualTo("3");
        assertThat(manifest.at("/architecture/vocabSize").asInt()).isEqualTo(30);
        assertThat(manifest.at("/architecture/contextLength").asInt()).isEqualTo(16);
        assertThat(manifest.at("/architecture/layers").asInt()).isEqualTo(2);
        assertThat(manifest.at("/architecture/heads").asInt()).isEqualTo(2);
        assertThat(manifest.at("/architecture/kvHeads").asInt()).isEqualTo(2);
        assertThat(manifest.at("/architecture/dModel").asInt()).isEqualTo(16);
        assertThat(manifest.at("/architecture/dFF").asInt()).isEqualTo(32);
        assertThat(manifest.at("/specialTokens/eos").asInt()).isEqualTo(2);
        assertThat(manifest.get("tokenizerFingerprint").asText()).isEqualTo("sha256:abc");
        assertThat(manifest.at("/metrics/validation_loss").asDouble()).isEqualTo(1.5);
        Set<String> listed = new HashSet<>();
        manifest.get("files").fields().forEachRemaining(e -> {
            listed.add(e.getKey());
            try {
                assertThat(e.getValue().asText()).isEqualTo(ModelFiles.sha256(target.resolve(e.getKey())));
            } catch (IOException ex) {
                throw new AssertionError(ex);
            }
        });
        assertThat(listed).containsExactlyInAnyOrder("model.onnx", "tokenizer.json", "genai_config.json", "config.json",
                "generation_config.json", "model.safetensors");
        ModelManifest.read(target).verify(target);
        assertThat(Files.readString(target.resolve("tokenizer.json"))).isEqualTo(Files.readString(tokenizer));

        JsonNode genai = JSON.readTree(target.resolve("genai_config.json").toFile());
        assertThat(genai.at("/model/type").asText()).isEqualTo("gpt2");
        assertThat(genai.at("/model/vocab_size").asInt()).isEqualTo(30);
        assertThat(genai.at("/model/decoder/head_size").asInt()).isEqualTo(8);
        assertThat(genai.at("/model/decoder/num_hidden_layers").asInt()).isEqualTo(2);
        assertThat(genai.at("/model/decoder/inputs/past_key_names").asText()).isEqualTo("past_key_values.%d.key");
        assertThat(genai.at("/model/decoder/outputs/present_value_names").asText()).isEqualTo("present.%d.value");
        assertThat(genai.at("/search/past_present_share_buffer").asBoolean()).isFalse();

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(target.resolve("model.onnx").toString())) {
            assertThat(session.getInputNames()).containsExactlyInAnyOrder("input_ids", "attention_mask", "position_ids",
                    "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value");
            assertThat(session.getOutputNames()).containsExactlyInAnyOrder("logits", "present.0.key", "present.0.value",
                    "present.1.key", "present.1.value");
        }
    }

    @Test
    void aBuiltInEncodingLeavesTokenizerJsonOutAndNamesTheEncoding() throws Exception {
        GptConfig config = new GptConfig(30, 16, 1, 2, 16, 32, 0f, true);
        Path target = dir.resolve("models/tiny/1");
        ModelArtifactWriter.ModelInfo info = new ModelArtifactWriter.ModelInfo("tiny", "1",
                new ModelManifest.SpecialTokens(-1, 29, -1), "cl100k_base", "sha256:def", Map.of());
        try (NDManager manager = NDManager.newBaseManager()) {
            ModelArtifactWriter.write(Gpt.create(config, manager, 1), info, null, target);
        }

        ModelManifest manifest = ModelManifest.read(target);
        assertThat(manifest.files()).containsOnlyKeys("model.onnx", "genai_config.json", "config.json",
                "generation_config.json", "model.safetensors");
        assertThat(manifest.tokenizerName()).isEqualTo("cl100k_base");
        assertThat(target.resolve("tokenizer.json")).doesNotExist();
        manifest.verify(target);
    }
}
