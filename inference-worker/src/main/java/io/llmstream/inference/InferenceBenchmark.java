package io.llmstream.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generated tokens per second of one model, measured side by side in one run: the naive loop (one request at a time,
 * the whole sequence recomputed every step, no KV cache), the {@link Scheduler} with batches of at most 1, 8 and 32 on
 * a uniform workload (every prompt {@code promptTokens} long, every request {@code newTokens} greedy tokens), and
 * continuous batching (batches of up to 32) on a mixed workload (prompts of 1 to {@code 2 * promptTokens} tokens,
 * 1 to {@code 2 * newTokens} new tokens), whose padding waste it also reports. Prompts are random ids; EOS may end a
 * generation early, and tokens are counted as sampled, so that only makes a run shorter.
 */
public final class InferenceBenchmark {

    /**
     * The workload.
     *
     * @param requests     requests per batched run (the naive run takes at most 4)
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
     * @param naive        tokens/s of the loop without cache, one request at a time
     * @param batch1       tokens/s with the KV cache, one request at a time
     * @param batch8       tokens/s, batches of up to 8
     * @param batch32      tokens/s, batches of up to 32
     * @param continuous   tokens/s on the mixed workload with continuous batching (up to 32)
     * @param paddingWaste share of the attention slots of the continuous run that were padding
     */
    public record Result(String model, String provider, double naive, double batch1, double batch8, double batch32,
                         double continuous, double paddingWaste, Workload workload) {}

    /** Each figure is timed over at least this many seconds of repeated runs. */
    private static final double MIN_SECONDS = 2.0;

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
        Run one = new Run(model, 1);
        one.warmUp(prompts, sampling); // the session and the JIT, for the naive loop too

        long start = System.nanoTime();
        long naiveTokens = 0;
        for (int i = 0; i < prompts.size() && (i < 4 || seconds(start) < MIN_SECONDS); i++) {
            Generation g = Generator.generateWithoutCache(model, prompts.get(i), sampling.get(i));
            naiveTokens += g.outputIds().length + (g.finishReason() == io.llmstream.schemas.FinishReason.LENGTH ? 0 : 1);
        }
        double naive = naiveTokens / seconds(start);
        double batch1 = one.rate(prompts, sampling);
        double batch8 = new Run(model, 8).measure(prompts, sampling);
        double batch32 = new Run(model, 32).measure(prompts, sampling);
        Run continuous = new Run(model, 32);
        double mixed = continuous.measure(mixedPrompts, mixedSampling);
        Counter c = continuous.counter;
        return new Result(model.id(), model.provider().label(), naive, batch1, batch8, batch32, mixed,
                c.slots == 0 ? 0 : (double) c.padding / c.slots, workload);
    }

    /**
     * One scheduler with batches of at most {@code batchSize}, kept for all its passes as the worker keeps its own:
     * its buffers are sized by the first pass and reused after, so the timed passes allocate nothing.
     */
    private static final class Run {
        final DecoderModel model;
        final Counter counter = new Counter();
        final Scheduler<Integer> scheduler;

        Run(DecoderModel model, int batchSize) {
            this.model = model;
            this.scheduler = new Scheduler<>(BatchLimits.of(batchSize), counter);
        }

        void warmUp(List<int[]> prompts, List<Sampling> sampling) {
            pass(prompts, sampling);
            counter.reset();
        }

        /** A warm-up pass, then {@link #rate}. */
        double measure(List<int[]> prompts, List<Sampling> sampling) {
            warmUp(prompts, sampling);
            return rate(prompts, sampling);
        }

        /**
         * Tokens/s over the workload; it is run again until {@link #MIN_SECONDS} have passed, so a small model's
         * figures are not a few milliseconds of timer noise.
         */
        double rate(List<int[]> prompts, List<Sampling> sampling) {
            long start = System.nanoTime();
            do {
                pass(prompts, sampling);
            } while (seconds(start) < MIN_SECONDS);
            return counter.tokens / seconds(start);
        }

        /** One run of the whole workload. */
        void pass(List<int[]> prompts, List<Sampling> sampling) {
            for (int i = 0; i < prompts.size(); i++) {
                scheduler.submit(Task.generate(i, model, prompts.get(i), sampling.get(i)));
            }
            for (Outcome<Integer> o : scheduler.drain()) {
                if (!o.ok()) {
                    throw new IllegalStateException(o.error());
                }
            }
        }
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
}
