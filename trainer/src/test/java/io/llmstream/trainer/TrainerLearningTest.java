package io.llmstream.trainer;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The loop actually learns: a memorisable pattern to near-zero loss, real text to well below its unigram entropy. */
class TrainerLearningTest {

    @Test
    void repeatingPatternLossFallsFromLnVToBelowOneTenth() throws IOException {
        int vocab = 32;
        int t = 16;
        // A period-12 cycle in which tokens recur, so the next id depends on more than the current one.
        int[] period = new Random(3).ints(12, 0, vocab).toArray();
        int[] stream = new int[2000];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = period[i % period.length];
        }
        GptConfig model = new GptConfig(vocab, t, 2, 2, 32, 64, 0f, true);
        TrainingConfig training = TrainingConfig.builder().sequenceLength(t).batchSize(8).maxSteps(150)
                .learningRate(3e-3).warmupSteps(10).weightDecay(0.01).evalInterval(0).checkpointInterval(0).seed(5)
                .build();
        List<StepResult> steps = new ArrayList<>();
        try (Trainer trainer = new Trainer(model, training, new InMemoryWindowSource(windows(stream, t, 5, "p"), true),
                null, new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                steps.add(result);
            }
        })) {
            trainer.train();
        }
        assertThat(steps.get(0).loss()).isCloseTo(Math.log(vocab), within(0.3));
        assertThat(steps.get(steps.size() - 1).loss()).isLessThan(0.1);
        assertThat(steps).noneMatch(StepResult::restored);
    }

    @Test
    void validationLossOnRealTextFallsClearlyBelowUnigramEntropy() throws IOException {
        byte[] text = sourceText();
        int t = 64;
        int cut = text.length * 9 / 10;
        int[] bytes = new int[text.length];
        for (int i = 0; i < text.length; i++) {
            bytes[i] = text[i] & 0xff;
        }
        List<Window> windows = new ArrayList<>(windows(slice(bytes, 0, cut), t, 17, "train"));
        Collections.shuffle(windows, new Random(1)); // batches of unrelated windows, as from many documents
        List<Window> heldOut = windows(slice(bytes, cut, bytes.length), t, t, "val").stream()
                .map(w -> new Window(w.tokens(), Window.Split.VALIDATION, w.origin())).toList();
        windows.addAll(0, heldOut); // the trainer keeps VALIDATION windows aside as it meets them

        GptConfig model = new GptConfig(256, t, 2, 4, 64, 128, 0f, true);
        TrainingConfig training = TrainingConfig.builder().sequenceLength(t).batchSize(8).maxSteps(400)
                .learningRate(6e-3).warmupSteps(20).evalInterval(0).checkpointInterval(0).seed(9)
                .maxValidationWindows(100_000).build(); // every held-out window, however large the sources grow
        Evaluation evaluation;
        try (Trainer trainer = new Trainer(model, training, new InMemoryWindowSource(windows, true), null,
                TrainingListener.NONE)) {
            trainer.train();
            evaluation = trainer.evaluate().orElseThrow();
        }
        double unigram = unigramEntropy(bytes);
        assertThat(evaluation.windows()).isEqualTo(heldOut.size());
        // The unigram entropy is the best loss without context; 0.4 nats below it takes using the context.
        assertThat(evaluation.loss()).as("validation loss vs unigram entropy %s nats", unigram)
                .isLessThan(unigram - 0.4);
        assertThat(evaluation.perplexity()).isCloseTo(Math.exp(evaluation.loss()), within(1e-9));
    }

    /** Windows of t + 1 ids every {@code stride} positions. */
    static List<Window> windows(int[] stream, int t, int stride, String name) {
        List<Window> out = new ArrayList<>();
        for (int start = 0; start + t + 1 <= stream.length; start += stride) {
            out.add(new Window(slice(stream, start, start + t + 1), Window.Split.TRAIN, name + "@" + start));
        }
        return out;
    }

    /** The trainer's own Java sources: real, varied text that is there in every checkout. */
    private static byte[] sourceText() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            List<Path> java = files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (Path p : java) {
                all.write(Files.readAllBytes(p));
            }
            return all.toByteArray();
        }
    }

    private static double unigramEntropy(int[] ids) {
        long[] counts = new long[256];
        for (int id : ids) {
            counts[id]++;
        }
        double h = 0;
        for (long c : counts) {
            if (c > 0) {
                double p = (double) c / ids.length;
                h -= p * Math.log(p);
            }
        }
        return h;
    }

    private static int[] slice(int[] a, int from, int to) {
        return Arrays.copyOfRange(a, from, to);
    }
}
