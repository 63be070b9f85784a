package io.llmstream.inference.engine;

import io.llmstream.inference.TestModels;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * CLASSIFY with a model trained with a classification head (our trainer, in the test): words labelled by whether they
 * hold a 'q'. The head answers in one pass, as the trainer's own forward pass computes it, batched or not.
 */
class ClassificationHeadTest {

    private static final List<String> LABELS = List.of("no", "yes");

    @TempDir
    static Path root;
    private static DecoderModel model;
    private static List<String> heldOut;
    private static float[][] djlHeadLogits;

    @BeforeAll
    static void train() throws Exception {
        Random random = new Random(4);
        Map<String, String> examples = new LinkedHashMap<>();
        while (examples.size() < 1_500) {
            String word = word(random);
            examples.put(word + "?", word.indexOf('q') >= 0 ? "yes" : "no");
        }
        heldOut = new ArrayList<>();
        while (heldOut.size() < 100) {
            String word = word(random) + "?";
            if (!examples.containsKey(word)) {
                heldOut.add(word);
            }
        }
        List<int[]> probes = new ArrayList<>();
        heldOut.forEach(w -> probes.add(bytes(w)));
        TestModels.TrainedClassifier trained = TestModels.trainedClassifier(root, "q", "1", examples, LABELS, 300, probes);
        djlHeadLogits = trained.probeLogits();
        model = ModelLoader.load(trained.dir(), RuntimeOptions.cpu());
    }

    /** 3 to 12 letters; in half of them a 'q' somewhere, in the others none. */
    private static String word(Random random) {
        int length = 3 + random.nextInt(10);
        StringBuilder w = new StringBuilder();
        for (int i = 0; i < length; i++) {
            char c;
            do {
                c = (char) ('a' + random.nextInt(26));
            } while (c == 'q');
            w.append(c);
        }
        if (random.nextBoolean()) {
            w.setCharAt(random.nextInt(length), 'q');
        }
        return w.toString();
    }

    private static int[] bytes(String text) {
        return text.chars().toArray(); // the test tokenizer: one id per byte, ASCII here
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void theHeadAnswersHeldOutWordsAsTheTrainerComputesIt() {
        assertThat(model.classificationHead()).isPresent();
        int correct = 0;
        for (int i = 0; i < heldOut.size(); i++) {
            String word = heldOut.get(i);
            Classification c = Generator.classify(model, model.tokenizer().encode(word), LABELS);
            assertThat(c.byHead()).isTrue();
            // the head's log-softmax over its two labels, from the trainer's DJL logits
            float no = djlHeadLogits[i][0];
            float yes = djlHeadLogits[i][1];
            double norm = Math.max(no, yes) + Math.log1p(Math.exp(-Math.abs(no - yes)));
            assertThat(c.scores().get("no")).as(word).isCloseTo(no - norm, within(1e-4));
            assertThat(c.scores().get("yes")).as(word).isCloseTo(yes - norm, within(1e-4));
            correct += c.label().equals(word.indexOf('q') >= 0 ? "yes" : "no") ? 1 : 0;
        }
        assertThat(correct).as("held-out words classified right, of 100").isGreaterThanOrEqualTo(95);
    }

    @Test
    void withoutLabelsTheHeadOffersItsOwnAndOtherLabelsAreScoredAsText() {
        int[] prompt = model.tokenizer().encode(heldOut.get(0));
        Classification all = Generator.classify(model, prompt, null);
        assertThat(all.byHead()).isTrue();
        assertThat(all.scores()).containsOnlyKeys(LABELS);

        Classification one = Generator.classify(model, prompt, List.of("yes"));
        assertThat(one.byHead()).isTrue();
        assertThat(one.probabilities().get("yes")).isCloseTo(1.0, within(1e-9));

        Classification text = Generator.classify(model, prompt, List.of("no", "maybe"));
        assertThat(text.byHead()).as("'maybe' is not the head's: label scoring").isFalse();
        assertThat(text.scores()).containsOnlyKeys("no", "maybe");
    }

    @Test
    void batchedHeadAnswersEqualSingleOnesBesideGenerationsAndScoredLabels() {
        Scheduler<String> scheduler = new Scheduler<>(BatchLimits.of(8), InferenceListener.NONE);
        Map<String, Classification> alone = new HashMap<>();
        for (int i = 0; i < 12; i++) {
            int[] prompt = model.tokenizer().encode(heldOut.get(i));
            List<String> labels = i % 3 == 2 ? List.of("no", "maybe") : LABELS;
            alone.put("c" + i, Generator.classify(model, prompt, labels));
            scheduler.submit(Job.classify("c" + i, model, prompt, labels));
            if (i % 4 == 0) {
                scheduler.submit(Job.generate("g" + i, model, prompt, Sampling.greedy(6)));
            }
        }
        List<Outcome<String>> outcomes = new ArrayList<>(scheduler.step());
        outcomes.addAll(scheduler.drain());
        assertThat(outcomes).hasSize(15);
        for (Outcome<String> o : outcomes) {
            assertThat(o.error()).isNull();
            if (!o.job().isGeneration()) {
                Classification expected = alone.get(o.job().tag());
                assertThat(o.classification().label()).isEqualTo(expected.label());
                assertThat(o.classification().byHead()).isEqualTo(expected.byHead());
                expected.scores().forEach((label, score) ->
                        assertThat(o.classification().scores().get(label)).isCloseTo(score, within(1e-4)));
            } else {
                // generation never samples the head's columns: every id is the tokenizer's
                assertThat(java.util.Arrays.stream(o.generation().outputIds()).max().orElse(0))
                        .isLessThan(model.vocabSize());
            }
        }
    }

    @Test
    void aModelWithoutAHeadStillNeedsLabels() throws Exception {
        try (DecoderModel plain = ModelLoader.load(TestModels.randomModel(root, "plain", "1",
                new io.llmstream.trainer.GptConfig(TestModels.VOCAB, 16, 1, 2, 16, 32, 0f, true), 3),
                RuntimeOptions.cpu())) {
            assertThat(plain.classificationHead()).isEmpty();
            assertThatThrownBy(() -> Job.classify("x", plain, new int[] {1, 2}, List.of()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("a classification needs at least one label");
        }
    }
}
