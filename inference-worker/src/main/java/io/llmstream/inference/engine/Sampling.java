package io.llmstream.inference.engine;

import java.util.Arrays;

/**
 * How one request is decoded.
 *
 * @param maxNewTokens upper bound on generated tokens (at least 1)
 * @param temperature  0 for greedy (argmax) decoding, else the softmax temperature
 * @param topK         sample among the k most likely tokens; 0 for no cut
 * @param topP         nucleus sampling: among the fewest most likely tokens whose probability reaches p; 1 for no cut
 * @param seed         the request's own random stream, so its samples do not depend on what else is in its batch
 * @param stopIds      ids that end the generation (finish reason STOP), besides the model's end-of-sequence ids
 */
public record Sampling(int maxNewTokens, float temperature, int topK, float topP, long seed, int[] stopIds) {

    public Sampling {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = no cut), got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        stopIds = stopIds.clone();
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens. */
    public static Sampling greedy(int maxNewTokens) {
        return new Sampling(maxNewTokens, 0f, 0, 1f, 0L, new int[0]);
    }

    @Override
    public int[] stopIds() {
        return stopIds.clone();
    }

    boolean isGreedy() {
        return temperature == 0f;
    }

    boolean isStop(int id) {
        for (int s : stopIds) {
            if (s == id) {
                return true;
            }
        }
        return false;
    }

    /** Checks the ids against a vocabulary. */
    void checkIds(int vocabSize) {
        for (int s : stopIds) {
            if (s < 0 || s >= vocabSize) {
                throw new IllegalArgumentException("stop id " + s + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sampling s && maxNewTokens == s.maxNewTokens && Float.compare(temperature, s.temperature) == 0
                && topK == s.topK && Float.compare(topP, s.topP) == 0 && seed == s.seed && Arrays.equals(stopIds, s.stopIds);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(stopIds) + Long.hashCode(seed) + 7 * maxNewTokens;
    }

    @Override
    public String toString() {
        return "Sampling[maxNewTokens=" + maxNewTokens + ", temperature=" + temperature + ", topK=" + topK
                + ", topP=" + topP + ", seed=" + seed + ", stopIds=" + Arrays.toString(stopIds) + "]";
    }
}
