package io.llmstream.tokenizer;

import java.util.Arrays;

/**
 * The candidate pairs of the long-piece merge, grouped by rank: for each rank present, the positions of pairs that
 * had that rank when formed, and a small heap of the ranks present. The merge takes the lowest rank's positions,
 * sorts them and sweeps them left to right, so memory is walked in order and each merge costs a few appends, where a
 * heap of all pairs would cost a logarithmic walk through megabytes. Reused across calls on one thread.
 *
 * <p>A group is a chain of blocks of {@value #SLOTS} positions, a block being one 64-byte cache line: a group's
 * entries arrive spread over the whole merge, and chaining them one by one made draining a miss per entry.
 */
final class RankGroups {
    /** Ints per block: the previous block of the same group (or -1), the number of positions, the positions. */
    private static final int BLOCK = 16;
    private static final int SLOTS = BLOCK - 2;

    /** Per rank, the newest block of its group, or -1. */
    private int[] heads = new int[0];
    private int[] blocks = new int[BLOCK * 256];
    private int blockCount;
    /** Ranks with a non-empty group, as a binary min-heap. */
    private int[] ranks = new int[64];
    private int rankCount;

    /** Empties the groups, for ranks below {@code rankLimit}. */
    void reset(int rankLimit) {
        if (heads.length < rankLimit) {
            heads = new int[rankLimit];
            Arrays.fill(heads, -1);
        }
        blockCount = 0;
        rankCount = 0;
    }

    boolean isEmpty() {
        return rankCount == 0;
    }

    void add(int rank, int position) {
        int block = heads[rank];
        if (block < 0) {
            pushRank(rank);
            block = heads[rank] = newBlock(-1);
        } else if (blocks[block * BLOCK + 1] == SLOTS) {
            block = heads[rank] = newBlock(block);
        }
        int at = block * BLOCK;
        blocks[at + 2 + blocks[at + 1]++] = position;
    }

    /** The lowest rank present; its group stays until {@link #drain}. */
    int lowestRank() {
        return ranks[0];
    }

    /** Removes the lowest rank's group, returning its positions, ascending, in {@code out[0][0, count)}. */
    int drain(int[][] out) {
        int rank = popRank();
        int count = 0;
        for (int block = heads[rank]; block >= 0; block = blocks[block * BLOCK]) {
            int at = block * BLOCK;
            int n = blocks[at + 1];
            if (count + n > out[0].length) {
                out[0] = Arrays.copyOf(out[0], Math.max(2 * out[0].length, count + n));
            }
            System.arraycopy(blocks, at + 2, out[0], count, n);
            count += n;
        }
        heads[rank] = -1;
        Arrays.sort(out[0], 0, count); // blocks come newest first, each mostly ascending
        return count;
    }

    /** Drops buffers grown past {@code limit} positions, so a huge input does not stay in a thread's memory. */
    void trim(int limit) {
        if (blocks.length / BLOCK * SLOTS > limit) {
            blocks = new int[BLOCK * 256];
        }
    }

    private int newBlock(int previous) {
        if ((blockCount + 1) * BLOCK > blocks.length) {
            blocks = Arrays.copyOf(blocks, blocks.length * 2);
        }
        int at = blockCount * BLOCK;
        blocks[at] = previous;
        blocks[at + 1] = 0;
        return blockCount++;
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
