package io.llmstream.tokenizer;

import java.util.Arrays;

/**
 * The candidate pairs of the long-piece merge, grouped by rank: for each rank present, the positions of pairs that
 * had that rank when formed, and a small heap of the ranks present. The merge takes the lowest rank's positions,
 * sorts them and sweeps them left to right, so memory is walked in order and each merge costs a few appends, where a
 * heap of all pairs would cost a logarithmic walk through megabytes. Reused across calls on one thread.
 */
final class RankGroups {
    /** Per rank, the latest entry of its group, or -1. */
    private int[] heads = new int[0];
    /** Entries side by side: a position, then the previous entry of the same group (or -1). */
    private int[] pool = new int[2048];
    private int entries;
    /** Ranks with a non-empty group, as a binary min-heap. */
    private int[] ranks = new int[64];
    private int rankCount;

    /** Empties the groups, for ranks below {@code rankLimit}. */
    void reset(int rankLimit) {
        if (heads.length < rankLimit) {
            heads = new int[rankLimit];
            Arrays.fill(heads, -1);
        }
        entries = 0;
        rankCount = 0;
    }

    boolean isEmpty() {
        return rankCount == 0;
    }

    void add(int rank, int position) {
        if (2 * entries == pool.length) {
            pool = Arrays.copyOf(pool, pool.length * 2);
        }
        if (heads[rank] < 0) {
            pushRank(rank);
        }
        pool[2 * entries] = position;
        pool[2 * entries + 1] = heads[rank];
        heads[rank] = entries++;
    }

    /** The lowest rank present; its group stays until {@link #drain}. */
    int lowestRank() {
        return ranks[0];
    }

    /** Removes the lowest rank's group, returning its positions, ascending, in {@code out[0][0, count)}. */
    int drain(int[][] out) {
        int rank = popRank();
        int count = 0;
        for (int e = heads[rank]; e >= 0; e = pool[2 * e + 1]) {
            if (count == out[0].length) {
                out[0] = Arrays.copyOf(out[0], count * 2);
            }
            out[0][count++] = pool[2 * e];
        }
        heads[rank] = -1;
        Arrays.sort(out[0], 0, count); // entries come newest first, mostly a descending run, which the sort notices
        return count;
    }

    /** Drops buffers grown past {@code limit}, so a huge input does not stay in a thread's memory. */
    void trim(int limit) {
        if (pool.length > 2 * limit) {
            pool = new int[2048];
        }
    }

    private void pushRank(int rank) {
        if (rankCount == ranks.length) {
            ranks = Arrays.copyOf(ranks, rankCount * 2);
        }
        int i = rankCount++;
        while (i > 0 && ranks[(i - 1) >>> 1] > rank) {
            ranks[i] = ranks[(i - 1) >>> 1];
            i = (i - 1) >>> 1;
        }
        ranks[i] = rank;
    }

    private int popRank() {
        int top = ranks[0];
        int last = ranks[--rankCount];
        int i = 0;
        while (2 * i + 1 < rankCount) {
            int child = 2 * i + 1;
            if (child + 1 < rankCount && ranks[child + 1] < ranks[child]) {
                child++;
            }
            if (last <= ranks[child]) {
                break;
            }
            ranks[i] = ranks[child];
            i = child;
        }
        if (rankCount > 0) {
            ranks[i] = last;
        }
        return top;
    }
}
