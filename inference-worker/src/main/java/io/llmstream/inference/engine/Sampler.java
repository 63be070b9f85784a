package io.llmstream.inference.engine;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * Picks one request's next tokens from its logits: argmax at temperature 0, else a draw from the temperature softmax
 * restricted by top-k and top-p. Each request has its own random stream from its seed, and the walk over candidates
 * has a fixed order (by weight, then id), so a draw depends only on the request's logits and its seed.
 *
 * <p>Works in the caller's scratch arrays (one vocabulary's worth, shared by the requests of a batch): no allocation per
 * token.
 */
final class Sampler {

    /** Scratch memory for one vocabulary, reused for every draw on one thread. */
    static final class Scratch {
        final float[] weights;
        final int[] order;

        Scratch(int vocab) {
            weights = new float[vocab];
            order = new int[vocab];
        }
    }

    private final Sampling sampling;
    private final SplittableRandom random;

    Sampler(Sampling sampling) {
        this.sampling = sampling;
        this.random = new SplittableRandom(sampling.seed());
    }

    int next(FloatBuffer logits, int at, int vocab, Scratch scratch) {
        float[] w = scratch.weights;
        logits.get(at, w, 0, vocab); // one bulk copy, then plain array loops the JIT vectorizes
        if (sampling.isGreedy()) {
            return argmax(w, vocab);
        }
        float max = w[argmax(w, vocab)];
        double inverse = 1.0 / sampling.temperature();
        for (int i = 0; i < vocab; i++) {
            w[i] = (float) Math.exp((w[i] - max) * inverse);
        }
        int topK = sampling.topK();
        boolean cutK = topK > 0 && topK < vocab;
        boolean cutP = sampling.topP() < 1f;
        if (!cutK && !cutP) {
            double total = 0;
            for (int i = 0; i < vocab; i++) {
                total += w[i];
            }
            double u = random.nextDouble() * total;
            double sum = 0;
            for (int i = 0; i < vocab; i++) {
                sum += w[i];
                if (sum > u) {
                    return i;
                }
            }
            return lastPositive(w, vocab);
        }
        int[] order = scratch.order;
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        int n = vocab;
        if (cutK) {
            IndexSort.selectTop(order, vocab, topK, w);
            n = topK;
        }
        IndexSort.sort(order, 0, n, w);
        if (cutP) {
            double total = 0;
            for (int i = 0; i < n; i++) {
                total += w[order[i]];
            }
            double target = sampling.topP() * total;
            double sum = 0;
            int kept = 0;
            while (kept < n && sum < target) {
                sum += w[order[kept++]];
            }
            n = Math.max(1, kept);
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += w[order[i]];
        }
        double u = random.nextDouble() * total;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += w[order[i]];
            if (sum > u) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    /** The most likely id; the lowest id among equals. */
    private static int argmax(float[] values, int n) {
        int best = 0;
        float bestValue = values[0];
        for (int i = 1; i < n; i++) {
            if (values[i] > bestValue) {
                bestValue = values[i];
                best = i;
            }
        }
        return best;
    }

    /** Rounding may leave u just above the sum: the last id with weight. */
    private static int lastPositive(float[] w, int vocab) {
        for (int i = vocab - 1; i > 0; i--) {
            if (w[i] > 0f) {
                return i;
            }
        }
        return 0;
    }
}
