package io.llmstream.trainer.hf;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.schemas.model.ModelManifest.SpecialTokens;
import io.llmstream.trainer.Decoder;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.LlamaConfig;
import io.llmstream.trainer.ModelConfig;
import io.llmstream.trainer.NamedParameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the trainer writes in HuggingFace's layout reads back through our own {@code init.from} as the same model,
 * weight for weight; a checkpoint transformers wrote comes out again tensor for tensor.
 */
class HuggingFaceExportTest {
    private static final Path MODELS = Path.of(System.getProperty("llmstream.shared", "../../shared")).resolve("models");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SpecialTokens SPECIAL = new SpecialTokens(1, 2, -1);

    @TempDir
    Path dir;

    static Stream<ModelConfig> architectures() {
        return Stream.of(
                new GptConfig(37, 16, 2, 2, 16, 40, 0f, true),
                new GptConfig(37, 16, 1, 4, 16, 24, 0.1f, false, true),
                new LlamaConfig(41, 16, 2, 4, 2, 32, 48, 10000.0, 1e-6f, false, true),
                new LlamaConfig(41, 16, 1, 4, 1, 32, 48, 1e6, 1e-5f, true, false),
                new GptConfig(37, 16, 1, 2, 16, 40, 0f, true).withClassLabels(List.of("spam", "ham", "eggs")),
                new LlamaConfig(41, 16, 1, 4, 2, 32, 48, 10000.0, 1e-6f, false, false).withClassLabels(List.of("no", "yes")));
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void anExportReloadsWithIdenticalWeights(ModelConfig config) throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            Decoder model = config.create(manager, 5);
            model.namedParameters().forEach(p -> p.parameter().getArray()
                    .addi(manager.randomNormal(0f, 0.5f, p.parameter().getArray().getShape(), p.parameter().getArray().getDataType())));
            HuggingFaceExport.write(model, SPECIAL, dir);

            // the head's labels are a setting (classify.labels), as they are for init.from
            Decoder reloaded = HuggingFaceCheckpoint.config(dir).withClassLabels(config.classLabels()).create(manager, 9);
            HuggingFaceCheckpoint.loadWeights(dir, reloaded);
            ModelConfig expected = config instanceof GptConfig g
                    ? new GptConfig(g.vocabSize(), g.contextLength(), g.layers(), g.heads(), g.dModel(), g.dFF(), 0f,
                            g.tieEmbeddings(), g.tanhGelu(), g.classLabels()) // dropout trains, it is not exported
                    : config;
            assertThat(reloaded.config()).isEqualTo(expected);
            for (NamedParameter p : model.namedParameters()) {
                assertThat(reloaded.parameter(p.name()).getArray().toFloatArray()).as(p.name())
                        .containsExactly(p.parameter().getArray().toFloatArray());
            }
            JsonNode hf = JSON.readTree(dir.resolve("config.json").toFile());
            for (int i = 0; i < config.classLabels().size(); i++) {
                assertThat(hf.path("id2label").path(Integer.toString(i)).asText()).isEqualTo(config.classLabels().get(i));
                assertThat(hf.path("label2id").path(config.classLabels().get(i)).asInt()).isEqualTo(i);
            }
            assertThat(hf.has("id2label")).isEqualTo(!config.classLabels().isEmpty());
            JsonNode generation = JSON.readTree(dir.resolve("generation_config.json").toFile());
            assertThat(generation.path("eos_token_id").asInt()).isEqualTo(2);
            assertThat(generation.path("pad_token_id").isNull()).isTrue();
        }
    }

    @Test
    void aTransformersCheckpointComesOutTensorForTensor() throws IOException {
        for (String fixture : new String[] {"gpt2-fp32", "qwen2-fp32"}) {
            Path source = MODELS.resolve(fixture);
            Path out = Files.createDirectory(dir.resolve(fixture));
            try (NDManager manager = NDManager.newBaseManager()) {
                HuggingFaceExport.write(HuggingFaceCheckpoint.load(source, manager), SPECIAL, out);
            }
            SafeTensors original = SafeTensors.open(source.resolve("model.safetensors"));
            SafeTensors written = SafeTensors.open(out.resolve("model.safetensors"));
            assertThat(written.metadata()).containsEntry("format", "pt");
            for (String name : written.entries().keySet()) {
                assertThat(written.entries().get(name).shape()).as(name).containsExactly(original.entries().get(name).shape());
                assertThat(written.floats(name)).as(name).containsExactly(original.floats(name));
            }
            JsonNode ours = JSON.readTree(out.resolve("config.json").toFile());
            JsonNode theirs = JSON.readTree(source.resolve("config.json").toFile());
            assertThat(ours.path("model_type")).isEqualTo(theirs.path("model_type"));
            assertThat(ours.path("architectures")).isEqualTo(theirs.path("architectures"));
        }
    }
}
