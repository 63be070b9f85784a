package io.llmstream.inference.engine;

import ai.onnxruntime.OrtException;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.KvCache;
import io.llmstream.inference.model.ModelRunner;

import java.nio.FloatBuffer;

/**
 * One model's runner, caches and scratch memory, kept between batches, and the left-padded prefill that generation
 * and classification share.
 */
final class ModelEngine {
    final ModelRunner runner;
    final int vocab;
    /** the running batch */
    final KvCache main;
    /** newcomers' prefill, and the prompts of classifications */
    final KvCache scratch;
    /** a classification's label rows */
    final KvCache labels;
    final Sampler.Scratch sampling;
    private final InferenceListener listener;
    private final Prefill prefill = new Prefill();

    ModelEngine(DecoderModel model, InferenceListener listener) {
        this.runner = new ModelRunner(model);
        this.vocab = model.vocabSize();
        this.main = runner.newCache();
        this.scratch = runner.newCache();
        this.labels = runner.newCache();
        this.sampling = new Sampler.Scratch(vocab);
        this.listener = listener;
    }

    DecoderModel model() {
        return runner.model();
    }

    /**
     * Runs left-padded prompts through a fresh cache in column chunks that keep the logits within budget.
     *
     * @return the logits of the last chunk ({@link #lastPrefillWidth()} columns)
     */
    FloatBuffer prefill(KvCache cache, int[][] prompts, int[] lengths, int n, String phase) throws OrtException {
        cache.reset(n);
        int width = 0;
        for (int i = 0; i < n; i++) {
            width = Math.max(width, lengths[i]);
        }
        int chunk = runner.chunk(n, width);
        FloatBuffer logits = null;
        for (int start = 0; start < width; start += chunk) {
            long started = System.nanoTime();
            prefill.set(prompts, lengths, width, start, Math.min(width, start + chunk));
            logits = runner.forward(cache, prefill.lastWidth(), prefill, 1);
            reportForward(phase, cache, started);
        }
        return logits;
    }

    /** Columns of the last prefill's logits. */
    int lastPrefillWidth() {
        return prefill.lastWidth();
    }

    void reportForward(String phase, KvCache cache, long started) {
        listener.onForward(phase, cache.rows(), (long) cache.rows() * cache.slots(), cache.paddingSlots(),
                System.nanoTime() - started);
    }

    /** Columns {@code [start, end)} of prompts right-aligned in {@code width} columns. */
    private static final class Prefill implements ModelRunner.Tokens {
        private int[][] prompts;
        private int[] lengths;
        private int width;
        private int start;
        private int end;

        void set(int[][] prompts, int[] lengths, int width, int start, int end) {
            this.prompts = prompts;
            this.lengths = lengths;
            this.width = width;
            this.start = start;
            this.end = end;
        }

        int lastWidth() {
            return end - start;
        }

        @Override
        public int count(int row) {
            return Math.max(0, end - Math.max(start, width - lengths[row]));
        }

        @Override
        public int token(int row, int i) {
            int first = width - lengths[row];
            return prompts[row][Math.max(start, first) - first + i];
        }
    }
}
