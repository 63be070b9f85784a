package io.llmstream.stream;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Cuts token sequences into training windows of {@code length + 1} ids (input = ids[0..T), target = ids[1..T]),
 * starting every {@code stride} ids. With stride T consecutive windows share one id, so every id is a target once.
 */
public final class WindowSlicer {
    /** What to do with a tail too short for a full window. */
    public enum Tail { DROP, PAD }

    private final int length;
    private final int stride;
    private final Tail tail;
    private final int padId;

    public WindowSlicer(int length, int stride, Tail tail, int padId) {
        if (length < 1) {
            throw new IllegalArgumentException("window length must be >= 1, got " + length);
        }
        if (stride < 1 || stride > length) {
            throw new IllegalArgumentException("window stride must be in [1, " + length + "], got " + stride);
        }
        this.length = length;
        this.stride = stride;
        this.tail = tail;
        this.padId = padId;
    }

    /** T: the number of input (and target) positions of a window. */
    public int length() {
        return length;
    }

    public int stride() {
        return stride;
    }

    /**
     * Emits the windows of one whole document. The tail (ids after the last full window that would still give at least
     * one new target) is dropped or padded with the pad id.
     */
    public void sliceDocument(int[] ids, Consumer<int[]> out) {
        int start = 0;
        for (; start + length + 1 <= ids.length; start += stride) {
            out.accept(Arrays.copyOfRange(ids, start, start + length + 1));
        }
        // The previous window's targets end at start - stride + length; a tail exists if ids go beyond that.
        int covered = start == 0 ? 0 : start - stride + length;
        boolean hasTail = ids.length - 1 > covered && ids.length - start >= 2;
        if (tail == Tail.PAD && hasTail) {
            int[] window = new int[length + 1];
            Arrays.fill(window, padId);
            System.arraycopy(ids, start, window, 0, ids.length - start);
            out.accept(window);
        }
    }

    /**
     * Emits every full window available at the front of a packed buffer of {@code size} ids and returns how many ids were
     * consumed from the front (the rest stays buffered for the next document).
     */
    public int slicePacked(int[] buffer, int size, Consumer<int[]> out) {
        int start = 0;
        for (; start + length + 1 <= size; start += stride) {
            out.accept(Arrays.copyOfRange(buffer, start, start + length + 1));
        }
        return start;
    }
}
