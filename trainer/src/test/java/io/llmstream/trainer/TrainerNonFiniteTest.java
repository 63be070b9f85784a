package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** NaN never reaches a checkpoint: the step is refused and training goes back to the last good state. */
class TrainerNonFiniteTest {

    private static final GptConfig MODEL = new GptConfig(24, 8, 1, 2, 16, 32, 0f, true);

    @TempDir
    Path dir;

    @Test
    void poisonedStepIsRefusedAndTheLastCheckpointRestored() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 5);
        List<String> restores = new ArrayList<>();
        Map<Long, Double> losses = new LinkedHashMap<>();
        try (Trainer trainer = new Trainer(MODEL, config(4, 3), source(), store, listener(restores, losses))) {
            for (int i = 0; i < 6; i++) {
                trainer.trainStep().orElseThrow();
            }
            assertThat(store.steps()).containsExactly(0L, 4L);
            double lossOfStep5 = losses.get(5L);

            poison(trainer);
            StepResult refused = trainer.trainStep().orElseThrow();

            assertThat(refused.restored()).isTrue();
            assertThat(refused.loss()).isNaN();
            assertThat(refused.step()).isEqualTo(4);
            assertThat(trainer.step()).isEqualTo(4);
            assertThat(restores).containsExactly("7 -> 4");
            assertThat(store.steps()).containsExactly(0L, 4L);
            Checkpoint four = store.loadLatest().orElseThrow();
            assertThat(four.firstNonFinite()).isNull();
            assertThat(TrainerResumeTest.weights(trainer.model()).get("h.0.mlp.c_fc.weight"))
                    .isEqualTo(four.weights().get("h.0.mlp.c_fc.weight").data());

            // Training goes on from step 4 and replays step 5 exactly.
            StepResult replay = trainer.trainStep().orElseThrow();
            assertThat(replay.restored()).isFalse();
            assertThat(replay.step()).isEqualTo(5);
            assertThat(replay.loss()).isCloseTo(lossOfStep5, within(1e-6));
        }
    }

    @Test
    void checkpointOfPoisonedWeightsIsNotWritten() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 5);
        List<String> restores = new ArrayList<>();
        try (Trainer trainer = new Trainer(MODEL, config(2, 3), source(), store, listener(restores, new LinkedHashMap<>()))) {
            trainer.trainStep().orElseThrow();
            trainer.trainStep().orElseThrow();
            trainer.trainStep().orElseThrow();
            poison(trainer);

            assertThat(trainer.checkpoint()).isEmpty();
            assertThat(store.steps()).containsExactly(0L, 2L);
            assertThat(trainer.step()).isEqualTo(2);
            assertThat(restores).containsExactly("3 -> 2");
        }
    }

    @Test
    void failingAgainAfterTheRestoresGivesUp() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, 5);
        try (Trainer trainer = new Trainer(MODEL, config(2, 1), source(), store, TrainingListener.NONE)) {
            trainer.trainStep().orElseThrow();
            poison(trainer);
            assertThat(trainer.trainStep().orElseThrow().restored()).isTrue();
            poison(trainer);
            assertThatThrownBy(trainer::trainStep).isInstanceOf(TrainingDivergedException.class)
                    .hasMessageContaining("still failing after 1 restores");
            assertThat(store.steps()).containsExactly(0L);
        }
    }

    @Test
    void withoutACheckpointStoreANonFiniteStepEndsTraining() throws IOException {
        try (Trainer trainer = new Trainer(MODEL, config(2, 1), source(), null, TrainingListener.NONE)) {
            poison(trainer);
            assertThatThrownBy(trainer::trainStep).isInstanceOf(TrainingDivergedException.class)
                    .hasMessageContaining("step 1 refused: loss NaN");
        }
    }

    /** What a bad update or a flipped bit would leave: NaN in a weight matrix. */
    private static void poison(Trainer trainer) {
        NDArray w = trainer.model().parameter("h.0.mlp.c_fc.weight").getArray();
        w.muli(Float.NaN);
    }

    private static TrainingConfig config(long checkpointInterval, int maxRestores) {
        return TrainingConfig.builder().sequenceLength(8).batchSize(2).maxSteps(100).learningRate(1e-3).warmupSteps(2)
                .evalInterval(0).checkpointInterval(checkpointInterval).keepCheckpoints(5).maxRestores(maxRestores)
                .seed(3).build();
    }

    private static WindowSource source() {
        return new InMemoryWindowSource(TrainerLearningTest.windows(
                new Random(8).ints(400, 0, MODEL.vocabSize()).toArray(), 8, 3, "r"), true);
    }

    private static TrainingListener listener(List<String> restores, Map<Long, Double> losses) {
        return new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                losses.put(result.step(), result.loss());
            }

            @Override
            public void onRestored(long failedStep, String reason, long restoredStep) {
                restores.add(failedStep + " -> " + restoredStep);
            }
        };
    }
}
