package io.llmstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Labelled windows train a classification head on the hidden state of the position they flag. */
class TrainerClassificationTest {
    private static final int VOCAB = 32;
    private static final int T = 12;
    private static final int PAD = 0;
    private static final int NEEDLE = 7;
    private static final List<String> LABELS = List.of("absent", "present");

    @ParameterizedTest
    @ValueSource(strings = {GptConfig.TYPE, LlamaConfig.TYPE})
    void aHeadLearnsWhetherThePromptHoldsAnIdToHighHeldOutAccuracy(String type) throws IOException {
        List<Window> windows = needleWindows(new Random(5), 2_000, 200);
        TrainingConfig training = TrainingConfig.builder().sequenceLength(T).batchSize(32).maxSteps(300)
                .learningRate(3e-3).warmupSteps(20).evalInterval(0).checkpointInterval(0).seed(3)
                .maxValidationWindows(200).build();
        ModelConfig shape = (type.equals(GptConfig.TYPE) ? new GptConfig(VOCAB, T, 2, 4, 64, 128, 0f, true)
                : new LlamaConfig(VOCAB, T, 2, 4, 2, 64, 128, 10_000, 1e-6f, false, true)).withClassLabels(LABELS);
        Evaluation evaluation;
        double firstLoss;
        List<Double> losses = new ArrayList<>();
        try (Trainer trainer = new Trainer(shape, training, new InMemoryWindowSource(windows, true), null,
                new TrainingListener() {
                    @Override
                    public void onStep(StepResult result) {
                        losses.add(result.loss());
                    }
                })) {
            trainer.train();
            evaluation = trainer.evaluate().orElseThrow();
            assertThat(trainer.metrics()).containsEntry("validation_accuracy", evaluation.accuracy());
        }
        firstLoss = losses.get(0);
        assertThat(firstLoss).as("two labels at chance").isCloseTo(Math.log(2), within(0.2));
        assertThat(evaluation.windows()).isEqualTo(200);
        assertThat(evaluation.accuracy()).as("held-out accuracy").isGreaterThanOrEqualTo(0.95);
    }

    @Test
    void onlyTheIdsUpToTheFlaggedPositionDecideTheLoss() throws IOException {
        List<Window> windows = needleWindows(new Random(9), 16, 0);
        // the ids after the flagged position are padding the head never sees (attention is causal)
        Run same = train(windows);
        Run laterChanged = train(windows.stream().map(TrainerClassificationTest::paddedWithNines).toList());
        Run atChanged = train(windows.stream().map(w -> withToken(w, w.labelPosition(),
                (w.tokens()[w.labelPosition()] + 5) % VOCAB)).toList());

        assertThat(laterChanged.losses).containsExactly(same.losses);
        assertThat(laterChanged.weights).containsExactly(same.weights);
        assertThat(atChanged.losses[0]).as("the control: the read position does count").isNotEqualTo(same.losses[0]);
    }

    @Test
    void aBatchMixingTextAndLabelsWeighsEveryCountedTargetAlike() throws IOException {
        // four text windows (12 targets each) then four labelled ones (1 each): one batch of eight must equal two
        // accumulated micro-batches, the mean over all 52 counted targets
        List<Window> windows = new ArrayList<>();
        Random random = new Random(2);
        for (int i = 0; i < 4; i++) {
            windows.add(new Window(random.ints(T + 1, 0, VOCAB).toArray(), Window.Split.TRAIN, "text" + i));
        }
        windows.addAll(needleWindows(random, 4, 0));
        Run whole = train(windows, oneStep().batchSize(8).gradientAccumulation(1).build());
        Run accumulated = train(windows, oneStep().batchSize(4).gradientAccumulation(2).build());

        assertThat(accumulated.losses[0]).isCloseTo(whole.losses[0], within(1e-6));
        // a first AdamW step moves every weight by about the learning rate, 3e-3, whatever its gradient's size: a
        // mis-weighted micro-batch would show at that scale, summation order in float32 only far below it
        for (int i = 0; i < whole.weights.length; i++) {
            assertThat(accumulated.weights[i]).as("weight %d", i).isCloseTo(whole.weights[i], within(3e-5f));
        }
    }

    @Test
    void windowsTheHeadCannotLearnFromAreSkippedWithTheReason() throws IOException {
        boolean[] two = new boolean[T];
        two[3] = true;
        two[5] = true;
        Window good = needleWindows(new Random(1), 1, 0).get(0);
        List<Window> windows = List.of(
                new Window(good.tokens(), good.lossMask(), "maybe", Window.Split.TRAIN, "unknown"),
                new Window(good.tokens(), two, "present", Window.Split.TRAIN, "twoFlags"),
                new Window(good.tokens(), null, "present", Window.Split.TRAIN, "noFlag"),
                good);
        List<String> reasons = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onRejectedWindow(Window window, String reason) {
                reasons.add(window.origin() + ": " + reason);
            }
        };
        TrainingConfig oneWindow = oneStep().batchSize(1).build();
        try (Trainer trainer = new Trainer(tiny().withClassLabels(LABELS), oneWindow,
                new InMemoryWindowSource(windows, false), null, listener)) {
            assertThat(trainer.train()).isEqualTo(1); // the good window trains
        }
        assertThat(reasons).containsExactly(
                "unknown: has label 'maybe', which is not one of the head's labels [absent, present]",
                "twoFlags: is labelled but its loss mask does not flag exactly one position for the head to read",
                "noFlag: is labelled but its loss mask does not flag exactly one position for the head to read");

        reasons.clear();
        try (Trainer trainer = new Trainer(tiny(), oneWindow, new InMemoryWindowSource(List.of(good), false), null,
                listener)) {
            assertThat(trainer.train()).isZero();
        }
        assertThat(reasons).singleElement().asString()
                .contains("has label 'absent' but the model has no classification head (set classify.labels)");
    }

    /**
     * A prompt of 3 to {@code T} random ids without {@link #NEEDLE}, in half of them with one {@link #NEEDLE} put in
     * somewhere, padded with {@link #PAD}; the label says whether it is there, read at the last prompt id.
     */
    static List<Window> needleWindows(Random random, int n, int validation) {
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int length = 3 + random.nextInt(T - 2);
            int[] ids = new int[T + 1];
            Arrays.fill(ids, PAD);
            for (int j = 0; j < length; j++) {
                do {
                    ids[j] = 1 + random.nextInt(VOCAB - 1);
                } while (ids[j] == NEEDLE);
            }
            boolean present = random.nextBoolean();
            if (present) {
                ids[random.nextInt(length)] = NEEDLE;
            }
            boolean[] mask = new boolean[T];
            mask[length - 1] = true;
            windows.add(new Window(ids, mask, LABELS.get(present ? 1 : 0),
                    i < validation ? Window.Split.VALIDATION : Window.Split.TRAIN, "n" + i));
        }
        return windows;
    }

    private static GptConfig tiny() {
        return new GptConfig(VOCAB, T, 1, 2, 16, 32, 0f, true);
    }

    private static TrainingConfig.Builder oneStep() {
        return TrainingConfig.builder().sequenceLength(T).maxSteps(1).learningRate(3e-3).warmupSteps(0).evalInterval(0)
                .checkpointInterval(0).seed(4);
    }

    private record Run(double[] losses, float[] weights) {}

    private static Run train(List<Window> windows) throws IOException {
        return train(windows, oneStep().batchSize(8).maxSteps(4).build());
    }

    private static Run train(List<Window> windows, TrainingConfig training) throws IOException {
        List<Double> losses = new ArrayList<>();
        try (Trainer trainer = new Trainer(tiny().withClassLabels(LABELS), training,
                new InMemoryWindowSource(windows, true), null, new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                losses.add(result.loss());
            }
        })) {
            trainer.train();
            float[] wte = trainer.model().parameter("wte").getArray().toFloatArray();
            float[] head = trainer.model().parameter(Decoder.CLASS_HEAD).getArray().toFloatArray();
            float[] weights = Arrays.copyOf(wte, wte.length + head.length);
            System.arraycopy(head, 0, weights, wte.length, head.length);
            return new Run(losses.stream().mapToDouble(Double::doubleValue).toArray(), weights);
        }
    }

    private static Window paddedWithNines(Window w) {
        int[] ids = w.tokens();
        Arrays.fill(ids, w.labelPosition() + 1, ids.length, 9);
        return new Window(ids, w.lossMask(), w.label(), w.split(), w.origin());
    }

    private static Window withToken(Window w, int at, int id) {
        int[] ids = w.tokens();
        ids[at] = id;
        return new Window(ids, w.lossMask(), w.label(), w.split(), w.origin());
    }
}
