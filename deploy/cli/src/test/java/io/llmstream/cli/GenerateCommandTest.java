package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.inference.engine.Generation;
import io.llmstream.inference.engine.Generator;
import io.llmstream.inference.engine.Sampling;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.Gpt;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.ModelArtifactWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code llmstream generate}: the model directory's continuation of a prompt, without Kafka. */
class GenerateCommandTest {
    private static final Tokenizer R50K = Tokenizers.load("r50k_base");
    private static final Path ONNX_COMMUNITY = Path.of(System.getProperty("llmstream.shared", "../../../shared"))
            .resolve("models/llama-onnx-community");

    @Test
    void jsonNamesTheGraphVariantAndGivesPromptAndOutputIds() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = LlmstreamCommand.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        assertThat(cli.execute("generate", "--model", ONNX_COMMUNITY.toString(), "--variant", "q4", "--prompt",
                "Kafka streams", "--max-new-tokens", "6", "--json")).isZero();

        JsonNode json = new ObjectMapper().readTree(out.toString());
        Generation expected;
        int[] prompt;
        try (DecoderModel m = ModelLoader.load(ONNX_COMMUNITY, RuntimeOptions.cpu().withVariant("q4"))) {
            prompt = m.tokenizer().encode("Kafka streams");
            expected = Generator.generate(m, prompt, Sampling.greedy(6));
        }
        assertThat(json.path("graph").asText()).isEqualTo("onnx/model_q4.onnx");
        assertThat(json.path("variant").asText()).isEqualTo("q4");
        assertThat(new ObjectMapper().convertValue(json.path("promptIds"), int[].class)).containsExactly(prompt);
        assertThat(new ObjectMapper().convertValue(json.path("outputIds"), int[].class))
                .containsExactly(expected.outputIds());
        assertThat(json.path("text").asText()).isEqualTo(expected.text());
        assertThat(json.path("finishReason").asText()).isEqualTo(expected.finishReason().toString());

        assertThat(cli.execute("generate", "--model", ONNX_COMMUNITY.toString(), "--variant", "q8", "--prompt", "x"))
                .isEqualTo(1);
        assertThat(err.toString()).contains("llmstream generate: cannot load the model in")
                .contains("model.variant=q8: no model_q8.onnx").contains("onnx/model_q4.onnx");
    }

    @Test
    void chatRendersTheModelsTemplateAsTransformersDoes() throws Exception {
        Path qwen = ONNX_COMMUNITY.resolveSibling("qwen2-fp32");
        JsonNode systemUser = new ObjectMapper().readTree(qwen.resolve("chat_expected.json").toFile()).path("cases").get(1);
        assertThat(systemUser.path("name").asText()).isEqualTo("system-user");
        String system = systemUser.path("messages").get(0).path("content").asText();
        String user = systemUser.path("messages").get(1).path("content").asText();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = LlmstreamCommand.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        assertThat(cli.execute("generate", "--model", qwen.toString(), "--chat", "--system", system, "--prompt", user,
                "--max-new-tokens", "4", "--json")).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        int[] expectedIds = new ObjectMapper().convertValue(systemUser.path("ids"), int[].class);
        assertThat(json.path("prompt").asText()).isEqualTo(systemUser.path("text").asText());
        assertThat(new ObjectMapper().convertValue(json.path("promptIds"), int[].class)).containsExactly(expectedIds);
        Generation expected;
        try (DecoderModel m = ModelLoader.load(qwen, RuntimeOptions.cpu())) {
            expected = Generator.generate(m, expectedIds, Sampling.greedy(4));
        }
        assertThat(new ObjectMapper().convertValue(json.path("outputIds"), int[].class))
                .containsExactly(expected.outputIds());

        StringWriter shown = new StringWriter();
        cli.setOut(new PrintWriter(shown));
        assertThat(cli.execute("generate", "--model", qwen.toString(), "--chat", "--system", system, "--prompt", user,
                "--max-new-tokens", "4", "--print-prompt")).isZero();
        assertThat(shown.toString()).isEqualTo(systemUser.path("text").asText() + expected.text() + System.lineSeparator());

        // a model without a template, and options that need --chat: one line each, exit 2
        assertThat(cli.execute("generate", "--model", qwen.resolveSibling("gpt2-fp32").toString(), "--chat",
                "--prompt", "x")).isEqualTo(2);
        assertThat(err.toString()).contains("llmstream generate: ").contains("gpt2-fp32 has no chat template")
                .doesNotContain("\tat ");
        assertThat(cli.execute("generate", "--model", qwen.toString(), "--system", "x", "--prompt", "x")).isEqualTo(2);
        assertThat(err.toString()).contains("llmstream generate: --system and --chat-template need --chat");
    }

    @Test
    void printsTheGreedyContinuationAndRefusesWhatItCannotServe(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny");
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt gpt = Gpt.create(new GptConfig(R50K.vocabSize(), 32, 1, 2, 16, 32, 0f, true), manager, 3);
            ModelArtifactWriter.write(gpt, new ModelArtifactWriter.ModelInfo("tiny", "1",
                    new ModelManifest.SpecialTokens(-1, 50256, 50256), "r50k_base", R50K.fingerprint(), Map.of()), null, model);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = LlmstreamCommand.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        assertThat(cli.execute("generate", "--model", model.toString(), "--prompt", "Kafka streams", "--max-new-tokens", "5")).isZero();

        String expected;
        try (DecoderModel m = ModelLoader.load(model, RuntimeOptions.cpu())) {
            expected = Generator.generate(m, R50K.encode("Kafka streams"), Sampling.greedy(5)).text();
        }
        assertThat(out.toString()).isEqualTo(expected + System.lineSeparator());
        assertThat(err.toString()).contains("tiny:1 on cpu: prompt " + R50K.encode("Kafka streams").length + " tokens")
                .contains("generated 5, finish LENGTH");

        // without --max-new-tokens, what the context of 32 leaves after the prompt (64 would not fit)
        assertThat(cli.execute("generate", "--model", model.toString(), "--prompt", "Kafka streams")).isZero();
        int room = 32 - R50K.encode("Kafka streams").length;
        try (DecoderModel m = ModelLoader.load(model, RuntimeOptions.cpu())) {
            expected = Generator.generate(m, R50K.encode("Kafka streams"), Sampling.greedy(room)).text();
        }
        assertThat(out.toString()).endsWith(expected + System.lineSeparator());

        assertThat(cli.execute("generate", "--model", model.toString(), "--prompt", "x", "--max-new-tokens", "40")).isEqualTo(2);
        assertThat(err.toString()).contains("llmstream generate: ").contains("maxNewTokens 40").doesNotContain("\tat ");
        assertThat(cli.execute("generate", "--model", dir.resolve("missing").toString(), "--prompt", "x")).isEqualTo(1);
        assertThat(err.toString()).contains("neither model.json");
    }
}
