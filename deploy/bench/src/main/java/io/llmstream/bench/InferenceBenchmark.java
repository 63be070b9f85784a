package io.llmstream.bench;

import io.llmstream.inference.engine.BatchLimits;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.engine.Generation;
import io.llmstream.inference.engine.Generator;
import io.llmstream.inference.engine.InferenceListener;
import io.llmstream.inference.engine.Job;
import io.llmstream.inference.engine.Outcome;
import io.llmstream.inference.engine.Sampling;
import io.llmstream.inference.engine.Scheduler;

import ai.djl.ndarray.NDManager;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.Gpt;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.ModelArtifactWriter;
import io.llmstream.trainer.TrainerApp;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generated tokens per second of one model, measured side by side in one run: the naive loop (one request at a time,
 * the whole sequence recomputed every step, no KV cache), the {@link Scheduler} with batches of at most 1, 8 and 32 on
 * a uniform workload (every prompt {@code promptTokens} long, every request {@code newTokens} greedy tokens), taking
 * turns in rounds so that each round compares them at the same moment, and continuous batching (batches of up to 32)
 * on a mixed workload (prompts of 1 to {@code 2 * promptTokens} tokens, 1 to {@code 2 * newTokens} new tokens) fed as
 * a steady stream, 32 requests always waiting as a worker under load has them; its padding waste is reported too.
 * Prompts are random ids; EOS may end a generation early, and tokens are counted as sampled, so that only makes a
 * run shorter.
 */
public final class InferenceBenchmark {

    /**
     * The workload.
     *
     * @param requests     requests in each workload, which the batched runs go round (the naive run takes at most 4)
     * @param promptTokens prompt length of the uniform runs, mean of the mixed one
     * @param newTokens    tokens per request in the uniform runs, mean of the mixed one
     */
    public record Workload(int requests, int promptTokens, int newTokens, long seed) {
        public Workload {
            if (requests < 1 || promptTokens < 1 || newTokens < 1) {
                throw new IllegalArgumentException("requests, promptTokens and newTokens must be positive");
            }
        }

        /** 64 requests of 32 prompt and 32 new tokens. */
        public static Workload standard() {
            return new Workload(64, 32, 32, 42);
        }
    }

    /**
     * Figures of one run.
     *
     * @param graph          the file served and the serving edits applied to it
     * @param naive          tokens/s of the loop without cache, one request at a time
     * @param batch1         tokens/s with the KV cache, one request at a time (median over the rounds)
     * @param batch8         tokens/s, batches of up to 8 (median over the rounds)
     * @param batch32        tokens/s, batches of up to 32 (median over the rounds)
     * @param batch8Speedup  median over the rounds of batch 8's tokens/s over batch 1's in the same round
     * @param batch32Speedup median over the rounds of batch 32's tokens/s over batch 1's in the same round
     * @param continuous     tokens/s on the mixed workload with continuous batching (up to 32), the queue kept full
     * @param paddingWaste   share of the attention slots of the continuous run that were padding
     */
    public record Result(String model, String graph, String provider, double naive, double batch1, double batch8, double batch32,
                         double batch8Speedup, double batch32Speedup, double continuous, double paddingWaste,
                         Workload workload) {}

    /** The naive loop and the continuous run are each timed over at least this many seconds. */
    private static final double MIN_SECONDS = 2.0;
    /**
     * Batch sizes 1, 8 and 32 take turns, each for at least {@link #ROUND_SECONDS} per round, so that a drift of
     * the machine's speed (a third within minutes on a shared VM) touches them alike and each round gives a ratio.
     */
    private static final int ROUNDS = 7;
    private static final double ROUND_SECONDS = 0.5;

    private InferenceBenchmark() {}

    public static Result run(DecoderModel model, Workload workload) {
        int budget = model.contextLength() - 1;
        int prompt = Math.min(workload.promptTokens(), budget / 2);
        int fresh = Math.min(workload.newTokens(), budget - prompt);
        SplittableRandom random = new SplittableRandom(workload.seed());
        List<int[]> prompts = new ArrayList<>();
        List<Sampling> sampling = new ArrayList<>();
        for (int i = 0; i < workload.requests(); i++) {
            prompts.add(randomIds(model, prompt, random));
            sampling.add(Sampling.greedy(fresh));
        }
        List<int[]> mixedPrompts = new ArrayList<>();
        List<Sampling> mixedSampling = new ArrayList<>();
        for (int i = 0; i < workload.requests(); i++) {
            int length = 1 + random.nextInt(Math.min(2 * prompt, budget - 1));
            mixedPrompts.add(randomIds(model, length, random));
            mixedSampling.add(Sampling.greedy(1 + random.nextInt(Math.min(2 * fresh, budget - length))));
        }
        Run[] sizes = {new Run(model, 1), new Run(model, 8), new Run(model, 32)};
        for (Run run : sizes) {
            run.rate(prompts, sampling, run.batchSize, 0); // the session, its buffers and the JIT
        }

        long start = System.nanoTime();
        long naiveTokens = 0;
        for (int i = 0; i < prompts.size() && (i < 4 || seconds(start) < MIN_SECONDS); i++) {
            Generation g = Generator.generateWithoutCache(model, prompts.get(i), sampling.get(i));
            naiveTokens += g.outputIds().length + (g.finishReason() == io.llmstream.schemas.FinishReason.LENGTH ? 0 : 1);
        }
        double naive = naiveTokens / seconds(start);

        double[][] rates = new double[sizes.length][ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < sizes.length; k++) {
                int s = round % 2 == 0 ? k : sizes.length - 1 - k; // no size always runs first
                rates[s][round] = sizes[s].rate(prompts, sampling, sizes[s].batchSize, ROUND_SECONDS);
            }
        }

        Run continuous = new Run(model, 32);
        continuous.steadyRate(mixedPrompts, mixedSampling, ROUND_SECONDS);
        double mixed = continuous.steadyRate(mixedPrompts, mixedSampling, MIN_SECONDS);
        return new Result(model.id(), model.directory().relativize(model.graphFile()) + ", " + model.graphEdits(),
                model.provider().label(), naive, median(rates[0]), median(rates[1]),
                median(rates[2]), median(ratios(rates[1], rates[0])), median(ratios(rates[2], rates[0])), mixed,
                continuous.paddingWaste, workload);
    }

    /**
     * One scheduler with batches of at most {@code batchSize}, kept for all its passes as the worker keeps its own:
     * its buffers are sized by the first pass and reused after, so the timed passes allocate nothing.
     */
    private static final class Run {
        final DecoderModel model;
        final int batchSize;
        final Counter counter = new Counter();
        final Scheduler<Integer> scheduler;
        /** The next request of the workload to submit: runs go round it. */
        int next;
        /** Share of the attention slots that were padding in the last {@link #steadyRate} window. */
        double paddingWaste;

        Run(DecoderModel model, int batchSize) {
            this.model = model;
            this.batchSize = batchSize;
            this.scheduler = new Scheduler<>(BatchLimits.of(batchSize), counter);
        }

        /**
         * Tokens/s: {@code unit} requests of the workload at a time (the next ones, round it) are submitted and
         * drained, until at least {@code seconds} have passed (one unit when 0), so a small model's figures are not a
         * few milliseconds of timer noise.
         */
        double rate(List<int[]> prompts, List<Sampling> sampling, int unit, double seconds) {
            counter.reset();
            long start = System.nanoTime();
            do {
                for (int i = 0; i < unit; i++) {
                    submitNext(prompts, sampling);
                }
                succeeded(scheduler.drain());
            } while (seconds(start) < seconds);
            return counter.tokens / seconds(start);
        }

        /**
         * Tokens/s over {@code seconds} with {@code batchSize} requests always waiting behind the running batch, so
         * that finished rows are replaced at once; the jobs still in hand are then finished, untimed.
         */
        double steadyRate(List<int[]> prompts, List<Sampling> sampling, double seconds) {
            counter.reset();
            long start = System.nanoTime();
            do {
                while (scheduler.queued() < batchSize) {
                    submitNext(prompts, sampling);
                }
                succeeded(scheduler.step());
            } while (seconds(start) < seconds);
            double rate = counter.tokens / seconds(start);
            paddingWaste = counter.slots == 0 ? 0 : (double) counter.padding / counter.slots;
            succeeded(scheduler.drain());
            return rate;
        }

        private void submitNext(List<int[]> prompts, List<Sampling> sampling) {
            scheduler.submit(Job.generate(next, model, prompts.get(next), sampling.get(next)));
            next = (next + 1) % prompts.size();
        }

        private static void succeeded(List<Outcome<Integer>> outcomes) {
            for (Outcome<Integer> o : outcomes) {
                if (!o.ok()) {
                    throw new IllegalStateException(o.error());
                }
            }
        }
    }

    private static double[] ratios(double[] numerators, double[] denominators) {
        double[] r = new double[numerators.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = numerators[i] / denominators[i];
        }
        return r;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static int[] randomIds(DecoderModel model, int length, SplittableRandom random) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            do {
                ids[i] = random.nextInt(model.vocabSize());
            } while (model.isEos(ids[i]));
        }
        return ids;
    }

    private static double seconds(long startNanos) {
        return Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
    }

    /** Tokens sampled and the padding of the attention slots, over a run. */
    private static final class Counter implements InferenceListener {
        long tokens;
        long slots;
        long padding;

        void reset() {
            tokens = 0;
            slots = 0;
            padding = 0;
        }

        @Override
        public void onForward(String phase, int rows, long slots, long paddingSlots, long nanos) {
            this.slots += slots;
            this.padding += paddingSlots;
        }

        @Override
        public void onTokens(int count) {
            tokens += count;
        }
    }

    /**
     * A decoder of the given shape over cl100k_base with random weights, written into {@code root/bench/1}: throughput
     * does not depend on what the weights learned. {@code llmstream bench infer} uses the demo's size
     * (context 256, 4 layers, 4 heads, 128 wide, MLP 512).
     */
    public static Path randomModel(Path root, int contextLength, int layers, int heads, int dModel, int dFF)
            throws IOException {
        TrainerApp.configureEngine();
        Tokenizer tokenizer = Tokenizers.load("cl100k_base");
        int eos = tokenizer.specialTokenId("<|endoftext|>").orElseThrow();
        GptConfig config = new GptConfig(tokenizer.vocabSize(), contextLength, layers, heads, dModel, dFF, 0f, true);
        Path dir = root.resolve("bench").resolve("1");
        try (NDManager manager = NDManager.newBaseManager()) {
            ModelArtifactWriter.write(Gpt.create(config, manager, 1),
                    new ModelArtifactWriter.ModelInfo("bench", "1", new ModelManifest.SpecialTokens(eos, eos, eos),
                            tokenizer.name(), tokenizer.fingerprint(), Map.of()), null, dir);
        }
        return dir;
    }
}
