package io.llmstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Instruction windows: the loss covers the targets the mask keeps, and nothing else moves the weights. */
class TrainerLossMaskTest {
    private static final int VOCAB = 32;
    private static final int T = 12;
    private static final TrainingConfig TRAINING = TrainingConfig.builder().sequenceLength(T).batchSize(8).maxSteps(6)
            .learningRate(3e-3).warmupSteps(0).evalInterval(0).checkpointInterval(0).seed(4).build();

    @Test
    void aMaskedTargetNeitherCountsInTheLossNorMovesTheWeights() throws IOException {
        // the last target of a window is no model input, so only the loss can tell two values of it apart
        List<Window> a = randomWindows(1, 48);
        List<Window> b = a.stream().map(w -> withLastToken(w, (w.tokens()[T] + 1) % VOCAB)).toList();
        boolean[] mask = new boolean[T];
        Arrays.fill(mask, true);
        mask[T - 1] = false;

        Run maskedA = train(masked(a, mask));
        Run maskedB = train(masked(b, mask));
        Run plainA = train(a);
        Run plainB = train(b);

        assertThat(maskedB.losses).containsExactly(maskedA.losses);
        assertThat(maskedB.weights).containsExactly(maskedA.weights);
        // the control: counted, the same change does show
        assertThat(plainB.losses[0]).isNotEqualTo(plainA.losses[0]);
        assertThat(plainB.weights).isNotEqualTo(plainA.weights);
    }

    @Test
    void instructionTuningLearnsTheResponseOfUnpredictablePrompts() throws IOException {
        // prompt: 5 random ids; response: the same ids reversed, then an end id; the rest padding. Only the response
        // is learnable; with the prompt and the padding counted the loss could not fall near zero.
        Random random = new Random(8);
        int end = VOCAB - 1;
        boolean[] mask = new boolean[T];
        for (int target = 5; target <= 10; target++) {
            mask[target - 1] = true; // targets tokens[5..10]: the reversed ids and the end id
        }
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            int[] ids = new int[T + 1];
            Arrays.fill(ids, end);
            for (int j = 0; j < 5; j++) {
                ids[j] = random.nextInt(VOCAB - 1);
                ids[9 - j] = ids[j];
            }
            windows.add(new Window(ids, mask, i < 100 ? Window.Split.VALIDATION : Window.Split.TRAIN, "w" + i));
        }
        TrainingConfig training = TrainingConfig.builder().sequenceLength(T).batchSize(32).maxSteps(500)
                .learningRate(5e-3).warmupSteps(20).evalInterval(0).checkpointInterval(0).seed(2)
                .maxValidationWindows(100).build(); // the source repeats: each held-out window once
        List<StepResult> steps = new ArrayList<>();
        Evaluation evaluation;
        try (Trainer trainer = new Trainer(new GptConfig(VOCAB, T, 2, 4, 64, 128, 0f, true), training,
                new InMemoryWindowSource(windows, true), null, new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                steps.add(result);
            }
        })) {
            trainer.train();
            evaluation = trainer.evaluate().orElseThrow();
        }
        // the first reversed id is the last prompt id, seen; the others need the prompt: ln 31 per target at first
        assertThat(steps.get(0).loss()).isCloseTo(Math.log(VOCAB), within(0.4));
        assertThat(evaluation.windows()).isEqualTo(100);
        assertThat(evaluation.loss()).isLessThan(0.1);
    }

    @Test
    void accumulatedMicroBatchesWeighByTheTargetsTheyCount() throws IOException {
        // the first four windows count one target each, the next four all twelve: accumulated in two micro-batches
        // the step must equal one batch of all eight, the mean over the 52 counted targets
        List<Window> windows = new ArrayList<>();
        List<Window> random = randomWindows(3, 8);
        boolean[] one = new boolean[T];
        one[T - 1] = true;
        for (int i = 0; i < 8; i++) {
            windows.add(new Window(random.get(i).tokens(), i < 4 ? one : null, Window.Split.TRAIN, "w" + i));
        }
        Run whole = train(windows, oneStep().batchSize(8).gradientAccumulation(1).build());
        Run accumulated = train(windows, oneStep().batchSize(4).gradientAccumulation(2).build());

        assertThat(accumulated.losses[0]).isCloseTo(whole.losses[0], within(1e-6));
        for (int i = 0; i < whole.weights.length; i++) {
            assertThat(accumulated.weights[i]).as("weight %d", i).isCloseTo(whole.weights[i], within(1e-6f));
        }
    }

    private static TrainingConfig.Builder oneStep() {
        return TrainingConfig.builder().sequenceLength(T).maxSteps(1).learningRate(3e-3).warmupSteps(0).evalInterval(0)
                .checkpointInterval(0).seed(4);
    }

    private record Run(double[] losses, float[] weights) {}

    private static Run train(List<Window> windows) throws IOException {
        return train(windows, TRAINING);
    }

    private static Run train(List<Window> windows, TrainingConfig training) throws IOException {
        List<Double> losses = new ArrayList<>();
        try (Trainer trainer = new Trainer(new GptConfig(VOCAB, T, 1, 2, 16, 32, 0f, true), training,
                new InMemoryWindowSource(windows, true), null, new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                losses.add(result.loss());
            }
        })) {
            trainer.train();
            float[] weights = trainer.model().parameter("wte").getArray().toFloatArray();
            return new Run(losses.stream().mapToDouble(Double::doubleValue).toArray(), weights);
        }
    }

    private static List<Window> randomWindows(long seed, int n) {
        Random random = new Random(seed);
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            windows.add(new Window(random.ints(T + 1, 0, VOCAB).toArray(), Window.Split.TRAIN, "r" + i));
        }
        return windows;
    }

    private static Window withLastToken(Window w, int id) {
        int[] ids = w.tokens();
        ids[T] = id;
        return new Window(ids, w.lossMask(), w.split(), w.origin());
    }

    private static List<Window> masked(List<Window> windows, boolean[] mask) {
        return windows.stream().map(w -> new Window(w.tokens(), mask, w.split(), w.origin())).toList();
    }
}
