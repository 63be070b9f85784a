package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.schemas.model.ModelManifest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code llmstream train --windows --out} then {@code llmstream export --checkpoint --out}: the same model twice. */
class TrainCommandTest {
    private static final String[] TINY = {"--set", "model.context.length=8", "--set", "model.layers=1",
        "--set", "model.heads=2", "--set", "model.d.model=16", "--set", "model.d.ff=32",
        "--set", "train.sequence.length=8", "--set", "train.batch.size=2", "--set", "train.steps=3",
        "--set", "train.warmup.steps=1", "--set", "model.name=cli"};

    @TempDir
    Path dir;

    @Test
    void offlineTrainingThenExportingItsCheckpointGiveTheSameModel() throws Exception {
        Random random = new Random(1);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lines.add("{\"tokens\":[" + random.ints(9, 0, 50_000).mapToObj(String::valueOf)
                    .collect(Collectors.joining(",")) + "]}");
        }
        Path windows = Files.write(dir.resolve("windows.jsonl"), lines);
        Path trained = dir.resolve("trained");

        List<String> train = new ArrayList<>(List.of("train", "--windows", windows.toString(), "--tokenizer", "r50k_base",
                "--out", trained.toString()));
        train.addAll(List.of(TINY));
        assertThat(LlmstreamCommand.commandLine().execute(train.toArray(String[]::new))).isZero();
        ModelManifest manifest = ModelManifest.read(trained);
        manifest.verify(trained);
        assertThat(manifest.name()).isEqualTo("cli");
        assertThat(manifest.version()).isEqualTo("step-000000000003");

        Path exported = dir.resolve("exported");
        assertThat(LlmstreamCommand.commandLine().execute("export", "--checkpoint", dir.resolve("trained.checkpoints").toString(),
                "--out", exported.toString())).isZero();
        assertThat(ModelManifest.read(exported).files()).isEqualTo(manifest.files());

        StringWriter err = new StringWriter();
        int again = LlmstreamCommand.commandLine().setErr(new PrintWriter(err, true))
                .execute("export", "--checkpoint", dir.resolve("trained.checkpoints").toString(), "--out", exported.toString());
        assertThat(again).isNotZero();
        assertThat(err.toString()).contains("exists already");
    }

    @Test
    void offlineTrainingNeedsBothWindowsAndOut() {
        StringWriter err = new StringWriter();
        int code = LlmstreamCommand.commandLine().setErr(new PrintWriter(err, true))
                .execute("train", "--windows", dir.resolve("w.jsonl").toString());
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("--windows FILE and --out DIR");
    }

    @Test
    void initFromADirectoryThatIsNoCheckpointSaysSoInOneLine() throws Exception {
        Files.createDirectories(dir.resolve("not-a-checkpoint"));
        Files.writeString(dir.resolve("w.jsonl"), "{\"tokens\":[1,2,3]}\n");
        StringWriter err = new StringWriter();
        int code = LlmstreamCommand.commandLine().setErr(new PrintWriter(err, true))
                .execute("train", "--windows", dir.resolve("w.jsonl").toString(), "--out", dir.resolve("m").toString(),
                        "--init-from", dir.resolve("not-a-checkpoint").toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString().strip()).isEqualTo("llmstream train: setting 'init.from': "
                + dir.resolve("not-a-checkpoint") + " has no config.json (a HuggingFace model directory: config.json,"
                + " model.safetensors, tokenizer.json)");
        assertThat(dir.resolve("m")).doesNotExist();
    }
}
