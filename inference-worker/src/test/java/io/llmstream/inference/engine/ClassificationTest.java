package io.llmstream.inference.engine;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.KvCache;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.ModelRunner;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.inference.TestModels;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Classification on a model trained in the test on sentences whose last word the subject fixes. */
class ClassificationTest {

    private static final Map<String, String> COLOURS = Map.of(
            "sky", "blue", "grass", "green", "snow", "white", "sun", "yellow", "night", "black");
    private static final List<String> LABELS = List.of(" blue", " green", " white", " yellow", " black");

    @TempDir
    static Path root;
    private static DecoderModel model;

    @BeforeAll
    static void train() throws Exception {
        List<String> subjects = new ArrayList<>(COLOURS.keySet());
        Random random = new Random(1);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            String subject = subjects.get(random.nextInt(subjects.size()));
            text.append("the ").append(subject).append(" is ").append(COLOURS.get(subject)).append(". ");
        }
        model = ModelLoader.load(TestModels.trainedModel(root, "colours", "1", text.toString(), 300), RuntimeOptions.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] prompt(String subject) {
        return model.tokenizer().encode("the night is black. the " + subject + " is");
    }

    @Test
    void picksTheLabelTheTrainingTaught() {
        for (Map.Entry<String, String> e : COLOURS.entrySet()) {
            Classification c = Generator.classify(model, prompt(e.getKey()), LABELS);
            assertThat(c.label()).as("the %s is", e.getKey()).isEqualTo(" " + e.getValue());
            assertThat(c.probabilities().values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, within(1e-9));
            assertThat(c.probabilities().get(c.label())).isGreaterThan(0.5);
            assertThat(c.promptTruncated()).isFalse();
        }
    }

    @Test
    void scoresAreTotalLogProbabilitiesOfTheLabelTokens() {
        int[] prompt = prompt("snow");
        Classification c = Generator.classify(model, prompt, LABELS);
        for (String label : LABELS) {
            assertThat(c.scores().get(label)).as(label).isCloseTo(scoreWithoutCache(prompt, label), within(1e-4));
        }
    }

    @Test
    void batchedClassificationsMatchSingleOnesAlsoBetweenDecodeSteps() {
        Scheduler<String> scheduler = new Scheduler<>(BatchLimits.of(8), InferenceListener.NONE);
        Map<String, Classification> alone = new HashMap<>();
        Map<String, Generation> generatedAlone = new HashMap<>();
        int i = 0;
        for (String subject : COLOURS.keySet()) {
            int[] generatePrompt = model.tokenizer().encode("the " + subject);
            generatedAlone.put("g-" + subject, Generator.generate(model, generatePrompt, Sampling.greedy(12 + i)));
            scheduler.submit(Job.generate("g-" + subject, model, generatePrompt, Sampling.greedy(12 + i)));
            alone.put(subject, Generator.classify(model, prompt(subject), LABELS.subList(0, 2 + i % 4)));
            scheduler.submit(Job.classify(subject, model, prompt(subject), LABELS.subList(0, 2 + i % 4)));
            i++;
        }
        // The first step starts a batch, so the classifications after the first run between its decode steps.
        List<Outcome<String>> outcomes = new ArrayList<>(scheduler.step());
        assertThat(scheduler.running()).isPositive();
        outcomes.addAll(scheduler.drain());
        assertThat(outcomes).hasSize(2 * COLOURS.size());
        for (Outcome<String> o : outcomes) {
            assertThat(o.error()).isNull();
            if (o.job().isGeneration()) {
                assertThat(o.generation()).isEqualTo(generatedAlone.get(o.job().tag()));
            } else {
                Classification expected = alone.get(o.job().tag());
                assertThat(o.classification().label()).isEqualTo(expected.label());
                expected.scores().forEach((label, score) ->
                        assertThat(o.classification().scores().get(label)).isCloseTo(score, within(1e-4)));
            }
        }
    }

    @Test
    void longPromptsAreCutSoTheLongestLabelFits() {
        StringBuilder text = new StringBuilder();
        while (text.length() < 200) {
            text.append("the sky is blue. ");
        }
        int[] prompt = model.tokenizer().encode(text + "the grass is");
        Classification c = Generator.classify(model, prompt, LABELS);
        assertThat(c.promptTruncated()).isTrue();
        assertThat(c.promptTokens()).isEqualTo(model.contextLength() - " yellow".length());
        assertThat(c.label()).isEqualTo(" green");
    }

    /** log P(label | prompt) from one pass over prompt + label, no cache. */
    private static double scoreWithoutCache(int[] prompt, String label) {
        int[] ids = model.tokenizer().encode(label);
        int[] all = new int[prompt.length + ids.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(ids, 0, all, prompt.length, ids.length);
        ModelRunner runner = new ModelRunner(model);
        KvCache cache = runner.newCache();
        cache.reset(1);
        try {
            FloatBuffer logits = runner.forward(cache, all.length, new ModelRunner.Tokens() {
                @Override
                public int count(int row) {
                    return all.length;
                }

                @Override
                public int token(int row, int i) {
                    return all[i];
                }
            }, all.length);
            double score = 0;
            for (int k = 0; k < ids.length; k++) {
                int at = runner.logitsAt(0, prompt.length - 1 + k);
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < model.vocabSize(); v++) {
                    max = Math.max(max, logits.get(at + v));
                }
                double sum = 0;
                for (int v = 0; v < model.vocabSize(); v++) {
                    sum += Math.exp(logits.get(at + v) - max);
                }
                score += logits.get(at + ids[k]) - max - Math.log(sum);
            }
            return score;
        } catch (ai.onnxruntime.OrtException e) {
            throw new AssertionError(e);
        }
    }
}
