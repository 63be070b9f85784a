package io.llmstream.tokenizer;

import java.util.Arrays;

/**
 * A min-priority queue of non-negative longs for the long-piece merge: a radix heap, whose pushes are appends and
 * whose pops move keys toward the minimum in sequential sweeps, so a million candidate pairs cost a few passes over
 * memory rather than a binary heap's random walks. A radix heap wants keys no smaller than the last one popped; the
 * rare smaller key (a merge that enables a lower-ranked pair) waits in a small binary heap that is served first.
 * Reused across calls on one thread.
 */
final class RadixQueue {
    private final long[][] buckets = new long[65][];
    private final int[] sizes = new int[65];
    private long last;
    private int count;
    private long[] early = new long[16];
    private int earlySize;

    RadixQueue() {
        for (int b = 0; b < buckets.length; b++) {
            buckets[b] = new long[16];
        }
    }

    void clear() {
        Arrays.fill(sizes, 0);
        last = 0;
        count = 0;
        earlySize = 0;
    }

    boolean isEmpty() {
        return count == 0;
    }

    void push(long key) {
        count++;
        if (key < last) {
            pushEarly(key);
        } else {
            append(bucket(key), key);
        }
    }

    long pop() {
        count--;
        if (earlySize > 0) {
            return popEarly();
        }
        if (sizes[0] == 0) {
            int b = 1;
            while (sizes[b] == 0) {
                b++;
            }
            long[] keys = buckets[b];
            int n = sizes[b];
            long min = keys[0];
            for (int k = 1; k < n; k++) {
                min = Math.min(min, keys[k]);
            }
            last = min;
            sizes[b] = 0;
            for (int k = 0; k < n; k++) { // each lands in a lower bucket: it agrees with min above bit b - 1
                append(bucket(keys[k]), keys[k]);
            }
        }
        return buckets[0][--sizes[0]];
    }

    /** Drops buffers grown past {@code limit} keys, so a huge input does not stay in a thread's memory. */
    void trim(int limit) {
        for (int b = 0; b < buckets.length; b++) {
            if (buckets[b].length > limit) {
                buckets[b] = new long[16];
            }
        }
        if (early.length > limit) {
            early = new long[16];
        }
    }

    private int bucket(long key) {
        return key == last ? 0 : 64 - Long.numberOfLeadingZeros(key ^ last);
    }

    private void append(int b, long key) {
        if (sizes[b] == buckets[b].length) {
            buckets[b] = Arrays.copyOf(buckets[b], buckets[b].length * 2);
        }
        buckets[b][sizes[b]++] = key;
    }

    private void pushEarly(long key) {
        if (earlySize == early.length) {
            early = Arrays.copyOf(early, earlySize * 2);
        }
        int i = earlySize++;
        while (i > 0 && early[(i - 1) >>> 1] > key) {
            early[i] = early[(i - 1) >>> 1];
            i = (i - 1) >>> 1;
        }
        early[i] = key;
    }

    private long popEarly() {
        long top = early[0];
        long key = early[--earlySize];
        int i = 0;
        while (2 * i + 1 < earlySize) {
            int child = 2 * i + 1;
            if (child + 1 < earlySize && early[child + 1] < early[child]) {
                child++;
            }
            if (key <= early[child]) {
                break;
            }
            early[i] = early[child];
            i = child;
        }
        if (earlySize > 0) {
            early[i] = key;
        }
        return top;
    }
}
