package io.llmstream.inference.engine;

import io.llmstream.inference.model.DecoderModel;

import java.time.Duration;
import java.util.Objects;

/**
 * How the {@link Scheduler} forms batches.
 *
 * @param maxBatchSize   sequences decoded together
 * @param maxBatchTokens prompt tokens (padding included) prefilled in one pass when requests join; a single longer
 *                       prompt still runs, alone
 * @param maxWait        how long the first waiting request may wait for others before an idle scheduler starts a
 *                       smaller batch; requests join a running batch at once
 */
public record BatchLimits(int maxBatchSize, int maxBatchTokens, Duration maxWait) {

    public BatchLimits {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
        }
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("maxBatchTokens must be at least 1, got " + maxBatchTokens);
        }
        Objects.requireNonNull(maxWait, "maxWait");
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must not be negative, got " + maxWait);
        }
    }

    /** A batch of up to {@code maxBatchSize}, started as soon as there is work. */
    public static BatchLimits of(int maxBatchSize) {
        return new BatchLimits(maxBatchSize, 1 << 16, Duration.ZERO);
    }

    /**
     * Rows one pass of {@code model} may take: one where rows are not independent (a dynamically quantized graph
     * scales each tensor by all of its rows). A graph without position ids takes them only unpadded
     * ({@link #equalLengths}).
     */
    public int maxRows(DecoderModel model) {
        return model.signature().rowsCoupled() ? 1 : maxBatchSize;
    }

    /** Rows of different lengths (left-padded) one pass may take: one without position ids, else {@link #maxRows}. */
    public int maxPaddedRows(DecoderModel model) {
        return equalLengths(model) ? 1 : maxRows(model);
    }

    /**
     * Whether the rows of a batch must have one length throughout: without position ids the graph numbers positions
     * from the cache's length, so a left-padded row would get shifted ones. Such a batch starts with prompts of one
     * length and takes no one while it runs.
     */
    public boolean equalLengths(DecoderModel model) {
        return !model.signature().positionIds();
    }
}
