package io.llmstream.trainer;

import io.llmstream.ops.Settings;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.hf.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import javax.imageio.ImageIO;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TrainerAppOfflineTest {

    @TempDir
    Path dir;

    @Test
    void trainsOnAFileAndWritesAModelDirectoryThatExportingTheCheckpointReproduces() throws IOException {
        Path tokenizer = TinyTokenizer.write(dir.resolve("tokenizer.json"));
        Path windows = windows(dir.resolve("windows.jsonl"));
        Path out = dir.resolve("model");

        TrainerApp.Outcome outcome;
        try (TrainerApp app = TrainerApp.offline(settings(6), windows, tokenizer.toString(), out)) {
            outcome = app.run();
        }

        assertThat(outcome.step()).isEqualTo(6);
        assertThat(outcome.stopped()).isFalse();
        assertThat(outcome.exports()).singleElement().satisfies(e -> assertThat(e.directory()).isEqualTo(out));
        ModelManifest manifest = ModelManifest.read(out);
        manifest.verify(out);
        assertThat(manifest.version()).isEqualTo("step-000000000006");
        assertThat(manifest.files()).containsOnlyKeys(ModelFiles.MODEL, ModelFiles.TOKENIZER, ModelFiles.GENAI_CONFIG,
                ModelFiles.HF_CONFIG, ModelFiles.HF_GENERATION_CONFIG, "model.safetensors", ModelFiles.METRICS,
                ModelFiles.LOSS_CURVE);
        assertThat(out.resolve(ModelFiles.TOKENIZER)).hasSameTextualContentAs(tokenizer);
        List<MetricsLog.Row> rows = MetricsLog.read(out.resolve(ModelFiles.METRICS));
        assertThat(rows.stream().filter(r -> !Double.isNaN(r.trainLoss())).map(MetricsLog.Row::step))
                .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        List<MetricsLog.Row> evaluations = rows.stream().filter(r -> !Double.isNaN(r.validationLoss())).toList();
        assertThat(evaluations).isNotEmpty();
        assertThat(evaluations.get(evaluations.size() - 1).validationLoss())
                .isCloseTo(manifest.metrics().get("validation_loss"), within(1e-5));
        BufferedImage curve = ImageIO.read(out.resolve(ModelFiles.LOSS_CURVE).toFile());
        assertThat(curve.getWidth()).isEqualTo(LossCurve.WIDTH);
        assertThat(curve.getHeight()).isEqualTo(LossCurve.HEIGHT);
        assertThat(manifest.tokenizerFingerprint()).isEqualTo(Tokenizers.load(tokenizer.toString()).fingerprint());
        assertThat(manifest.tokenizerName()).as("names the shipped file, not a path on the training machine")
                .isEqualTo(ModelFiles.TOKENIZER);
        assertThat(manifest.specialTokens()).isEqualTo(new ModelManifest.SpecialTokens(256, 256, 256));
        assertThat(manifest.architecture().vocabSize()).isEqualTo(257);
        assertThat(manifest.metrics()).containsKeys("train_loss", "validation_loss")
                .containsEntry("step", 6.0).containsEntry("tokens_seen", 6.0 * 2 * 8);

        assertThatThrownBy(() -> TrainerApp.offline(settings(6), windows, tokenizer.toString(), out))
                .isInstanceOf(FileAlreadyExistsException.class);

        // `llmstream export`: the checkpoint root alone is enough, and gives the very same weights.
        Path exported = dir.resolve("exported");
        ModelVersions.Exported e = ModelVersions.fromCheckpoint(dir.resolve("model.checkpoints"), exported);
        assertThat(e.written()).isTrue();
        assertThat(e.manifest().version()).isEqualTo(manifest.version());
        assertThat(e.manifest().files()).isEqualTo(manifest.files());
        e.manifest().verify(exported);
    }

    @Test
    void stopCheckpointsWithoutExportingAndTheNextRunResumesThere() throws Exception {
        Path tokenizer = TinyTokenizer.write(dir.resolve("tokenizer.json"));
        Path windows = windows(dir.resolve("windows.jsonl"));
        Path out = dir.resolve("model");
        Path checkpoints = dir.resolve("model.checkpoints");

        TrainerApp.Outcome stopped;
        try (TrainerApp app = TrainerApp.offline(settings(1_000_000), windows, tokenizer.toString(), out)) {
            CompletableFuture<Void> stopper = CompletableFuture.runAsync(() -> {
                awaitCheckpointAtOrAfter(checkpoints, 3);
                app.stop();
            });
            stopped = app.run();
            stopper.join();
        }
        assertThat(stopped.stopped()).isTrue();
        assertThat(stopped.step()).isGreaterThanOrEqualTo(3).isLessThan(1_000_000);
        assertThat(stopped.exports()).isEmpty();
        assertThat(out).doesNotExist();
        assertThat(CheckpointStore.readLatest(checkpoints).orElseThrow().step()).isEqualTo(stopped.step());

        try (TrainerApp app = TrainerApp.offline(settings(stopped.step() + 2), windows, tokenizer.toString(), out)) {
            assertThat(app.trainer().step()).isEqualTo(stopped.step());
            TrainerApp.Outcome resumed = app.run();
            assertThat(resumed.step()).isEqualTo(stopped.step() + 2);
            assertThat(resumed.exports()).hasSize(1);
        }
        ModelManifest.read(out).verify(out);
        // one row per step however the run was cut: the resumed run appended after the checkpoint's step
        List<Long> steps = MetricsLog.read(out.resolve(ModelFiles.METRICS)).stream()
                .filter(r -> !Double.isNaN(r.trainLoss())).map(MetricsLog.Row::step).toList();
        assertThat(steps).isEqualTo(LongStream.rangeClosed(1, stopped.step() + 2).boxed().toList());
    }

    @Test
    void checkpointsOfAnotherTokenizerAreRefused() throws IOException {
        Path tokenizer = TinyTokenizer.write(dir.resolve("tokenizer.json"));
        Path windows = windows(dir.resolve("windows.jsonl"));
        try (TrainerApp app = TrainerApp.offline(settings(1), windows, tokenizer.toString(), dir.resolve("model"))) {
            app.run();
        }
        Files.writeString(dir.resolve("model.checkpoints").resolve(RunInfo.FILE),
                Files.readString(dir.resolve("model.checkpoints").resolve(RunInfo.FILE))
                        .replaceAll("\"tokenizerFingerprint\" : \"[^\"]+\"", "\"tokenizerFingerprint\" : \"other\""));
        Files.move(dir.resolve("model"), dir.resolve("moved"));

        assertThatThrownBy(() -> TrainerApp.offline(settings(2), windows, tokenizer.toString(), dir.resolve("model")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("other");
    }

    @Test
    void startsFromAHuggingFaceCheckpointWithItsArchitectureAndTokenizer() throws IOException {
        Path pretrained = Path.of(System.getProperty("llmstream.shared", "../../shared")).resolve("models/llama-fp32");
        Path windows = windows(dir.resolve("windows.jsonl"));
        Path out = dir.resolve("model");
        Settings settings = settings(4).with("init.from", pretrained.toString());

        try (TrainerApp app = TrainerApp.offline(settings, windows, "ignored-when-init-from-is-set", out)) {
            assertThat(app.trainer().model()).isInstanceOf(Llama.class);
            app.run();
        }

        SafeTensors hf = SafeTensors.open(pretrained.resolve("model.safetensors"));
        Checkpoint first = CheckpointStore.read(dir.resolve("model.checkpoints").resolve("step-000000000000"));
        Checkpoint last = CheckpointStore.readLatest(dir.resolve("model.checkpoints")).orElseThrow();
        assertThat(first.weights().keySet()).containsExactlyInAnyOrderElementsOf(hf.entries().keySet());
        for (String name : hf.entries().keySet()) {
            assertThat(first.weights().get(name).data()).as(name).containsExactly(hf.floats(name));
        }
        assertThat(last.step()).isEqualTo(4);
        assertThat(last.weights().get("model.layers.0.self_attn.q_proj.weight").data())
                .as("trained on from there").isNotEqualTo(hf.floats("model.layers.0.self_attn.q_proj.weight"));
        ModelManifest manifest = ModelManifest.read(out);
        assertThat(manifest.architecture().type()).isEqualTo(LlamaConfig.TYPE);
        assertThat(manifest.architecture().kvHeads()).isEqualTo(2);
        assertThat(manifest.architecture().vocabSize()).isEqualTo(2000);
        assertThat(out.resolve(ModelFiles.TOKENIZER)).hasSameBinaryContentAs(pretrained.resolve(ModelFiles.TOKENIZER));
    }

    @Test
    void classificationFineTuningOfAHuggingFaceCheckpointAddsAFreshHeadAndExportsIt() throws IOException {
        Path pretrained = Path.of(System.getProperty("llmstream.shared", "../../shared")).resolve("models/llama-fp32");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int length = 3 + i % 6;
            int first = 100 + 37 * i;
            String ids = IntStream.range(0, 9).mapToObj(k -> Integer.toString(k < length ? first + k : 2))
                    .collect(Collectors.joining(","));
            String mask = IntStream.range(0, 8).mapToObj(k -> Boolean.toString(k == length - 1))
                    .collect(Collectors.joining(","));
            lines.add("{\"tokens\":[" + ids + "],\"lossMask\":[" + mask + "],\"label\":\"" + (i % 2 == 0 ? "neg" : "pos")
                    + "\",\"split\":\"" + (i % 4 == 3 ? "VALIDATION" : "TRAIN") + "\"}");
        }
        Path windows = Files.write(dir.resolve("labelled.jsonl"), lines);
        Path out = dir.resolve("model");
        Settings settings = settings(4).with("init.from", pretrained.toString()).with("classify.labels", "neg, pos");

        try (TrainerApp app = TrainerApp.offline(settings, windows, "ignored-when-init-from-is-set", out)) {
            assertThat(app.trainer().model().config().classLabels()).containsExactly("neg", "pos");
            app.run();
        }

        SafeTensors hf = SafeTensors.open(pretrained.resolve("model.safetensors"));
        Checkpoint first = CheckpointStore.read(dir.resolve("model.checkpoints").resolve("step-000000000000"));
        assertThat(first.weights().keySet()).containsAll(hf.entries().keySet()).contains(Decoder.CLASS_HEAD);
        for (String name : hf.entries().keySet()) {
            assertThat(first.weights().get(name).data()).as(name).containsExactly(hf.floats(name));
        }
        assertThat(first.weights().get(Decoder.CLASS_HEAD).shape()).containsExactly(2, 64);
        ModelManifest manifest = ModelManifest.read(out);
        assertThat(manifest.architecture().classLabels()).containsExactly("neg", "pos");
        assertThat(manifest.architecture().logitsWidth()).isEqualTo(2002);
        assertThat(manifest.metrics()).containsKey("validation_accuracy");
        assertThat(MetricsLog.read(out.resolve(ModelFiles.METRICS)).stream()
                .filter(r -> !Double.isNaN(r.validationAccuracy()))).isNotEmpty();
        assertThat(Files.readString(out.resolve(ModelFiles.HF_CONFIG))).contains("\"id2label\"").contains("\"pos\"");
        assertThat(SafeTensors.open(out.resolve("model.safetensors")).entries()).containsKey(Decoder.CLASS_HEAD);
    }

    /** A tiny model on the defaults; the sequence length is 8, so windows carry 9 ids. */
    private static Settings settings(long steps) {
        Map<String, String> values = new HashMap<>(TrainerSettings.defaults());
        values.putAll(Map.of("model.context.length", "8", "model.layers", "1", "model.heads", "2",
                "model.d.model", "16", "model.d.ff", "32", "train.sequence.length", "8", "train.batch.size", "2",
                "train.warmup.steps", "1", "eval.interval", "3", "checkpoint.interval", "3"));
        values.put("train.steps", Long.toString(steps));
        return Settings.of(values);
    }

    /** Twenty windows of a repeating byte pattern, every fourth one VALIDATION. */
    private static Path windows(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int start = i;
            String ids = IntStream.range(0, 9).mapToObj(k -> Integer.toString('a' + (start + k) % 7))
                    .collect(Collectors.joining(","));
            lines.add("{\"tokens\":[" + ids + "],\"split\":\"" + (i % 4 == 3 ? "VALIDATION" : "TRAIN") + "\"}");
        }
        return Files.write(file, lines);
    }

    private static void awaitCheckpointAtOrAfter(Path root, long step) {
        while (true) {
            try (Stream<Path> list = Files.list(root)) {
                if (list.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d+"))
                        .anyMatch(n -> Long.parseLong(n.substring(5)) >= step)) {
                    return;
                }
            } catch (IOException e) {
                // not created yet
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
