package io.llmstream.tokenizer;

/**
 * The merge table: (left id, right id) to merge rank, open addressing over one {@code long[]} where each slot packs
 * left, right and rank in 21 bits each, so a probe is one memory load and one compare.
 */
final class PairMap {
    /** Bits of one field of a slot. */
    static final int BITS = 21;
    static final long FIELD = (1L << BITS) - 1;
    /** The largest token id or rank (the all-ones field is left free to mean "none"). */
    static final int MAX_ID = (int) FIELD - 1;
    static final long EMPTY = -1L;

    private final long[] slots;
    private final int shift;
    private int size;

    PairMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        slots = new long[capacity];
        java.util.Arrays.fill(slots, EMPTY);
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
    }

    /** Adds or replaces the rank of a pair (a later merge of the same pair wins, as in HuggingFace). */
    void put(int left, int right, int rank) {
        if (left > MAX_ID || right > MAX_ID || rank > MAX_ID || left < 0 || right < 0 || rank < 0) {
            throw new IllegalArgumentException("token ids and merge ranks must not exceed " + MAX_ID);
        }
        long key = key(left, right);
        int mask = slots.length - 1;
        for (int i = index(key); ; i = i + 1 & mask) {
            long slot = slots[i];
            if (slot == EMPTY) {
                if (++size * 4 > slots.length * 3) {
                    throw new IllegalStateException("pair map over capacity");
                }
                slots[i] = key << BITS | rank;
                return;
            }
            if (slot >>> BITS == key) {
                slots[i] = key << BITS | rank;
                return;
            }
        }
    }

    /** The rank of merging {@code left} and {@code right}, or {@link Integer#MAX_VALUE} when they do not merge. */
    int rank(int left, int right) {
        long key = key(left, right);
        int mask = slots.length - 1;
        for (int i = index(key); ; i = i + 1 & mask) {
            long slot = slots[i];
            if (slot >>> BITS == key) {
                return (int) (slot & FIELD);
            }
            if (slot == EMPTY) {
                return Integer.MAX_VALUE;
            }
        }
    }

    /** The 42-bit key of a pair. */
    static long key(int left, int right) {
        return (long) left << BITS | right;
    }

    /** A well-mixed hash of a pair key; its high bits index a table. */
    static long hash(long key) {
        return key * 0x9E3779B97F4A7C15L;
    }

    private int index(long key) {
        return (int) (hash(key) >>> shift);
    }
}
