package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.cli.demo.DemoPipeline;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @Test
    void aTemporaryWorkDirectoryKeepsOnlyItsModelsAndSaysWhere(@TempDir Path root) throws Exception {
        Path dir = Files.createDirectory(root.resolve("run"));
        Path model = Files.createDirectories(dir.resolve(DemoPipeline.MODELS).resolve("demo").resolve("step-1"));
        Files.writeString(model.resolve("model.onnx"), "weights");
        Files.writeString(Files.createDirectories(dir.resolve("platform").resolve("kafka-logs")).resolve("00.log"), "x");
        Files.createDirectories(dir.resolve("checkpoints").resolve("step-1"));
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        ByteArrayOutputStream log = new ByteArrayOutputStream();

        DemoCommand.keepOnlyModels(dir, new PrintStream(log, true, StandardCharsets.UTF_8));

        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(dir.resolve(DemoPipeline.MODELS));
        }
        assertThat(model.resolve("model.onnx")).hasContent("weights");
        assertThat(log.toString(StandardCharsets.UTF_8))
                .contains("models kept in " + dir.resolve(DemoPipeline.MODELS).toAbsolutePath());
    }

    @Test
    void anUnknownModelTypeIsRefusedBeforeAnythingStarts() {
        StringWriter err = new StringWriter();
        int code = LlmstreamCommand.commandLine().setErr(new PrintWriter(err, true))
                .execute("demo", "--model-type", "mistral");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).startsWith("--model-type must be gpt2 or llama, not 'mistral'");
    }

    @Test
    void aRunThatMadeNoModelLeavesNothingBehind(@TempDir Path root) throws Exception {
        Path dir = Files.createDirectory(root.resolve("run"));
        Files.createDirectories(dir.resolve("platform").resolve("kafka-logs"));

        DemoCommand.keepOnlyModels(dir, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

        assertThat(dir).doesNotExist();
    }
}
