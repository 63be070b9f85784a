package io.llmstream.inference.engine;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.inference.TestModels;

import io.llmstream.schemas.FinishReason;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.trainer.GptConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Generation with the KV cache and continuous batching against the same model run without either. */
class GenerationTest {

    private static final int CONTEXT = 48;

    @TempDir
    static Path root;
    private static DecoderModel model;

    @BeforeAll
    static void exportModel() throws IOException {
        Path dir = TestModels.randomModel(root, "random", "1", new GptConfig(TestModels.VOCAB, CONTEXT, 2, 4, 32, 64, 0f, true), 7);
        model = ModelLoader.load(dir, RuntimeOptions.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static List<int[]> prompts() {
        List<int[]> prompts = new ArrayList<>();
        int[] lengths = {1, 7, 3, 12, 5, 20, 2, 9, 15, 4};
        for (int i = 0; i < lengths.length; i++) {
            prompts.add(TestModels.randomPrompt(lengths[i], 100 + i));
        }
        return prompts;
    }

    @Test
    void cachedGreedyDecodingEqualsRecomputingTheWholeSequence() {
        int longest = 0;
        for (int[] prompt : prompts()) {
            Generation cached = Generator.generate(model, prompt, Sampling.greedy(20));
            Generation recomputed = Generator.generateWithoutCache(model, prompt, Sampling.greedy(20));
            assertThat(cached).isEqualTo(recomputed);
            longest = Math.max(longest, cached.outputIds().length);
        }
        assertThat(longest).as("the model generates long enough for the comparison to mean something").isGreaterThan(10);
    }

    @Test
    void greedyOutputDoesNotDependOnTheBatch() {
        List<int[]> prompts = prompts();
        List<Sampling> sampling = new ArrayList<>();
        List<Generation> alone = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            sampling.add(Sampling.greedy(4 + 3 * i)); // different lengths: rows leave at different steps
            alone.add(Generator.generate(model, prompts.get(i), sampling.get(i)));
        }
        assertThat(Generator.generateAll(model, prompts, sampling, BatchLimits.of(16))).isEqualTo(alone);

        // Three rows at a time: as rows finish, waiting requests join the running batch mid-generation.
        RecordingListener listener = new RecordingListener();
        assertThat(run(prompts, sampling, BatchLimits.of(3), listener)).isEqualTo(alone);
        assertThat(listener.joinsWhileDecoding).as("requests joined a running batch").isGreaterThan(0);
    }

    @Test
    void seededSamplingDoesNotDependOnTheBatch() {
        List<int[]> prompts = prompts();
        List<Sampling> sampling = new ArrayList<>();
        List<Generation> alone = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            sampling.add(new Sampling(6 + 2 * i, 0.9f, i % 2 == 0 ? 0 : 40, i % 3 == 0 ? 1f : 0.9f, 1000 + i, new int[0]));
            alone.add(Generator.generate(model, prompts.get(i), sampling.get(i)));
        }
        assertThat(run(prompts, sampling, BatchLimits.of(4), new RecordingListener())).isEqualTo(alone);
        assertThat(Generator.generateAll(model, prompts, sampling, BatchLimits.of(16))).isEqualTo(alone);

        Sampling other = new Sampling(20, 0.9f, 0, 1f, 1, new int[0]);
        Sampling otherSeed = new Sampling(20, 0.9f, 0, 1f, 2, new int[0]);
        int[] prompt = prompts.get(3);
        assertThat(Generator.generate(model, prompt, other)).isEqualTo(Generator.generate(model, prompt, other));
        assertThat(Generator.generate(model, prompt, other).outputIds())
                .isNotEqualTo(Generator.generate(model, prompt, otherSeed).outputIds());
        assertThat(Generator.generate(model, prompt, other)).isEqualTo(Generator.generateWithoutCache(model, prompt, other));
    }

    @Test
    void topKOfOneIsGreedy() {
        int[] prompt = prompts().get(5);
        Generation greedy = Generator.generate(model, prompt, Sampling.greedy(15));
        Generation topOne = Generator.generate(model, prompt, new Sampling(15, 1.5f, 1, 1f, 9, new int[0]));
        assertThat(topOne).isEqualTo(greedy);
        Generation tinyNucleus = Generator.generate(model, prompt, new Sampling(15, 1.5f, 0, 1e-6f, 9, new int[0]));
        assertThat(tinyNucleus).isEqualTo(greedy);
    }

    @Test
    void longPromptsAreCutOnTheLeft() {
        int[] prompt = TestModels.randomPrompt(60, 3);
        Generation g = Generator.generate(model, prompt, Sampling.greedy(10));
        assertThat(g.promptTruncated()).isTrue();
        assertThat(g.promptTokens()).isEqualTo(CONTEXT - 10);
        int[] tail = Arrays.copyOfRange(prompt, prompt.length - (CONTEXT - 10), prompt.length);
        Generation fromTail = Generator.generate(model, tail, Sampling.greedy(10));
        assertThat(fromTail.promptTruncated()).isFalse();
        assertThat(g.outputIds()).isEqualTo(fromTail.outputIds());
    }

    @Test
    void stopIdsAndEosEndTheGeneration() throws IOException {
        int[] prompt = prompts().get(1);
        int[] free = Generator.generate(model, prompt, Sampling.greedy(20)).outputIds();
        int at = firstNewIdAfterStart(free);
        Generation stopped = Generator.generate(model, prompt, new Sampling(20, 0f, 0, 1f, 0, new int[] {free[at]}));
        assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(stopped.outputIds()).isEqualTo(Arrays.copyOf(free, at));
        assertThat(stopped.text()).isEqualTo(model.tokenizer().decode(Arrays.copyOf(free, at)));

        // The same weights under a manifest whose end-of-sequence id is that token.
        Path copy = root.resolve("random-eos");
        Files.createDirectories(copy);
        ModelManifest m = ModelManifest.read(model.directory());
        for (String file : m.files().keySet()) {
            Files.copy(model.directory().resolve(file), copy.resolve(file));
        }
        new ModelManifest(m.name(), "eos", m.architecture(), new ModelManifest.SpecialTokens(-1, free[at], -1),
                m.tokenizerName(), m.tokenizerFingerprint(), m.metrics(), m.files(), m.createdAt()).write(copy);
        try (DecoderModel eosModel = ModelLoader.load(copy, RuntimeOptions.cpu())) {
            Generation g = Generator.generate(eosModel, prompt, Sampling.greedy(20));
            assertThat(g.finishReason()).isEqualTo(FinishReason.EOS);
            assertThat(g.outputIds()).isEqualTo(Arrays.copyOf(free, at));
        }
        assertThat(Generator.generate(model, prompt, Sampling.greedy(3)).finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void requestsThatCannotBeServedAreRefusedWithTheReason() {
        Sampling ok = Sampling.greedy(5);
        assertThatThrownBy(() -> Job.generate(null, model, new int[0], ok)).hasMessageContaining("empty prompt");
        assertThatThrownBy(() -> Job.generate(null, model, new int[] {1, TestModels.VOCAB}, ok))
                .hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> Job.generate(null, model, new int[] {1, -1}, ok))
                .hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> Job.generate(null, model, new int[] {1}, Sampling.greedy(CONTEXT)))
                .hasMessageContaining("maxNewTokens");
        assertThatThrownBy(() -> Job.generate(null, model, new int[] {1}, new Sampling(5, 0f, 0, 1f, 0, new int[] {999})))
                .hasMessageContaining("stop id 999");
        assertThatThrownBy(() -> new Sampling(5, -1f, 0, 1f, 0, new int[0])).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new Sampling(5, Float.NaN, 0, 1f, 0, new int[0])).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new Sampling(5, 1f, 0, 0f, 0, new int[0])).hasMessageContaining("topP");
        assertThatThrownBy(() -> new Sampling(0, 1f, 0, 1f, 0, new int[0])).hasMessageContaining("maxNewTokens");
        assertThatThrownBy(() -> Job.classify(null, model, new int[] {1}, List.of("a", "a"))).hasMessageContaining("distinct");
        assertThatThrownBy(() -> Job.classify(null, model, new int[] {1}, List.of())).hasMessageContaining("at least one label");
        assertThatThrownBy(() -> Job.classify(null, model, new int[] {1}, List.of("a", ""))).hasMessageContaining("empty");
    }

    private static List<Generation> run(List<int[]> prompts, List<Sampling> sampling, BatchLimits limits,
                                        RecordingListener listener) {
        Scheduler<Integer> scheduler = new Scheduler<>(limits, listener);
        listener.scheduler = scheduler;
        for (int i = 0; i < prompts.size(); i++) {
            scheduler.submit(Job.generate(i, model, prompts.get(i), sampling.get(i)));
        }
        Generation[] out = new Generation[prompts.size()];
        for (Outcome<Integer> o : scheduler.drain()) {
            assertThat(o.error()).isNull();
            out[o.job().tag()] = o.generation();
        }
        return Arrays.asList(out);
    }

    /** An index whose id does not occur before it (so a stop there stops there first), past the first token. */
    private static int firstNewIdAfterStart(int[] ids) {
        for (int i = 2; i < ids.length; i++) {
            final int id = ids[i];
            if (Arrays.stream(ids, 0, i).noneMatch(x -> x == id)) {
                return i;
            }
        }
        throw new AssertionError("no fresh id in " + Arrays.toString(ids));
    }

    /** Counts prefills of requests joining a batch that is already decoding. */
    static final class RecordingListener implements InferenceListener {
        Scheduler<?> scheduler;
        int joinsWhileDecoding;

        @Override
        public void onForward(String phase, int rows, long slots, long paddingSlots, long nanos) {
            if (phase.equals("prefill") && scheduler.running() > 0) {
                joinsWhileDecoding++;
            }
        }
    }
}
