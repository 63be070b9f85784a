package io.llmstream.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** A run that crashes after its mid-way checkpoint and resumes ends exactly where an uninterrupted run ends. */
class TrainerResumeTest {

    private static final GptConfig MODEL = new GptConfig(40, 16, 2, 2, 32, 64, 0.1f, true); // dropout on: RNG replays too
    private static final TrainingConfig TRAINING = TrainingConfig.builder().sequenceLength(16).batchSize(4)
            .gradientAccumulation(2).maxSteps(12).learningRate(3e-3).warmupSteps(3).evalInterval(4)
            .checkpointInterval(6).keepCheckpoints(2).maxValidationWindows(12).seed(21).build();

    @TempDir
    Path dir;

    @Test
    void crashAfterCheckpointThenResumeMatchesStraightRun() throws IOException {
        Path windows = writeWindows(dir.resolve("windows.jsonl"), 60);

        // Uninterrupted: 2N steps.
        List<String> straightWindows = new ArrayList<>();
        Map<Long, Double> straightLosses = new LinkedHashMap<>();
        Map<String, float[]> straightWeights;
        Map<String, Double> straightMetrics;
        try (WindowSource source = new RecordingSource(new JsonlWindowSource(windows, true), straightWindows);
             Trainer trainer = new Trainer(MODEL, TRAINING, source, new CheckpointStore(dir.resolve("a"), 2),
                     lossRecorder(straightLosses))) {
            assertThat(trainer.train()).isEqualTo(12);
            straightWeights = weights(trainer.model());
            straightMetrics = trainer.metrics();
        }

        // First life: N steps (checkpoint at N), two more, then a crash: nothing saved, everything in memory dropped.
        List<String> firstLife = new ArrayList<>();
        int[] consumedAtCheckpoint = {-1};
        WindowSource firstSource = new RecordingSource(new JsonlWindowSource(windows, true), firstLife);
        Trainer first = new Trainer(MODEL, TRAINING, firstSource, new CheckpointStore(dir.resolve("b"), 2),
                new TrainingListener() {
                    @Override
                    public void onCheckpoint(long step, Path directory) {
                        if (step == 6) {
                            consumedAtCheckpoint[0] = firstLife.size();
                        }
                    }
                });
        for (int i = 0; i < 8; i++) {
            first.trainStep().orElseThrow();
        }
        first.close();
        firstSource.close();

        // Second life: a new process would do just this.
        List<String> secondLife = new ArrayList<>();
        Map<Long, Double> resumedLosses = new LinkedHashMap<>();
        try (WindowSource source = new RecordingSource(new JsonlWindowSource(windows, true), secondLife);
             Trainer resumed = new Trainer(MODEL, TRAINING, source, new CheckpointStore(dir.resolve("b"), 2),
                     lossRecorder(resumedLosses))) {
            assertThat(resumed.step()).isEqualTo(6);
            assertThat(resumed.train()).isEqualTo(12);

            Map<String, float[]> resumedWeights = weights(resumed.model());
            assertThat(resumedWeights.keySet()).isEqualTo(straightWeights.keySet());
            for (String name : straightWeights.keySet()) {
                assertThat(maxAbsDiff(resumedWeights.get(name), straightWeights.get(name))).as(name).isLessThan(1e-5);
            }
            assertThat(resumed.metrics().get("train_loss")).isCloseTo(straightMetrics.get("train_loss"), within(1e-5));
            assertThat(resumed.metrics().get("validation_loss"))
                    .isCloseTo(straightMetrics.get("validation_loss"), within(1e-5));
        }
        for (long step = 7; step <= 12; step++) {
            assertThat(resumedLosses.get(step)).as("loss of step %d", step).isCloseTo(straightLosses.get(step), within(1e-5));
        }

        // The windows trained on: the first life's up to its checkpoint, then the second life's; none twice, none lost.
        assertThat(consumedAtCheckpoint[0]).isPositive().isLessThan(firstLife.size());
        List<String> trained = new ArrayList<>(firstLife.subList(0, consumedAtCheckpoint[0]));
        trained.addAll(secondLife);
        assertThat(trained).isEqualTo(straightWindows);
    }

    private static TrainingListener lossRecorder(Map<Long, Double> losses) {
        return new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                losses.put(result.step(), result.loss());
            }
        };
    }

    /** Random windows, every fifth one VALIDATION. */
    static Path writeWindows(Path file, int count) throws IOException {
        Random random = new Random(99);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String ids = random.ints(17, 0, MODEL.vocabSize()).mapToObj(String::valueOf).collect(Collectors.joining(","));
            lines.add("{\"tokens\":[" + ids + "],\"split\":\"" + (i % 5 == 4 ? "VALIDATION" : "TRAIN") + "\"}");
        }
        return Files.write(file, lines);
    }

    static Map<String, float[]> weights(Decoder model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (NamedParameter p : model.namedParameters()) {
            out.put(p.name(), p.parameter().getArray().toFloatArray());
        }
        return out;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
