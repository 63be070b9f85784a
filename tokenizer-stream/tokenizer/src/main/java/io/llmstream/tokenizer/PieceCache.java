package io.llmstream.tokenizer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A small direct-mapped cache of piece encodings, one per thread and encoder. Text repeats a few thousand pieces most
 * of the time; a hit costs one probe of this cache (1 MiB, its hot part in the core's L2) instead of a probe of the
 * vocabulary (megabytes) and, for pieces that are not single tokens, a merge loop of a dozen random probes of the merge
 * table. Keys are the piece's bytes as two words; pieces of up to 16 bytes and up to {@link #MAX_TOKENS}
 * tokens are kept.
 *
 * <p>Sets of two entries. A new piece enters as the second entry of its set, evicting the second one, and moves
 * first when it is hit there: text is full of pieces seen once, which then only ever displace each other, never a
 * piece that has proved it repeats. (Inserting first instead, the usual most-recent-first order, let every rare
 * word push a common one towards eviction: over a quarter more misses on English.)
 */
final class PieceCache {
    /** The longest piece kept, and the room callers leave after a piece's bytes so keys are read as two words. */
    static final int MAX_LENGTH = 16;
    static final int SLACK = 16;
    static final int MAX_TOKENS = 4;
    /** {@link #rank} of a pair not in the cache. */
    static final int UNKNOWN = -1;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int BITS = 15;
    private static final long ID = PairMap.FIELD;
    private static final int PAIR_BITS = 14;

    /**
     * Four longs per entry: key bytes 0-7, key bytes 8-15, {@code count << 40 | length << 32 | first id}, and the other
     * ids 21 bits each. The third long is 0 when the entry is empty (length is never 0).
     */
    private final long[] entries = new long[4 << BITS];
    /**
     * Recently looked-up merge pairs, packed like {@link PairMap}'s slots, "no merge" included (rank field all ones):
     * the rare pieces that miss the entries above are mostly made of common pairs.
     */
    private final long[] pairs = new long[1 << PAIR_BITS];

    PieceCache() {
        java.util.Arrays.fill(pairs, PairMap.EMPTY);
    }

    /** The cached rank of a pair, {@link Integer#MAX_VALUE} for "no merge", or {@link #UNKNOWN}. */
    int rank(int left, int right) {
        long key = PairMap.key(left, right);
        long cached = pairs[pairSlot(key)];
        if (cached >>> PairMap.BITS != key || cached == PairMap.EMPTY) {
            return UNKNOWN;
        }
        long rank = cached & PairMap.FIELD;
        return rank == PairMap.FIELD ? Integer.MAX_VALUE : (int) rank;
    }

    void putRank(int left, int right, int rank) {
        long key = PairMap.key(left, right);
        pairs[pairSlot(key)] = key << PairMap.BITS | (rank == Integer.MAX_VALUE ? PairMap.FIELD : rank);
    }

    private static int pairSlot(long key) {
        return (int) (PairMap.hash(key) >>> 64 - PAIR_BITS);
    }

    /** Bytes 0-7 of a piece of {@code length <= 16} bytes at {@code b[0]}, zero padded. */
    static long firstWord(byte[] b, int length) {
        long w = (long) LONGS.get(b, 0);
        return length >= 8 ? w : w & (1L << 8 * length) - 1;
    }

    /** Bytes 8-15 of a piece of {@code length <= 16} bytes at {@code b[0]}, zero padded. */
    static long secondWord(byte[] b, int length) {
        if (length <= 8) {
            return 0;
        }
        long w = (long) LONGS.get(b, 8);
        return length == MAX_LENGTH ? w : w & (1L << 8 * (length - 8)) - 1;
    }

    /** Writes the two words of a piece back as bytes 0-15 of {@code b}. */
    static void spell(long k0, long k1, byte[] b) {
        LONGS.set(b, 0, k0);
        LONGS.set(b, 8, k1);
    }

    static int hash(long k0, long k1, int length) {
        long h = (k0 * 0x9E3779B97F4A7C15L + k1) * 0xC2B2AE3D27D4EB4FL + length;
        return (int) (h ^ h >>> 32);
    }

    /** Appends the cached tokens of the piece to {@code out}; false on a miss. */
    boolean get(long k0, long k1, int length, int hash, IntList out) {
        int e = set(hash);
        if (!matches(e, k0, k1, length)) {
            if (!matches(e + 4, k0, k1, length)) {
                return false;
            }
            promote(e);
        }
        long meta = entries[e + 2];
        out.add((int) (meta & ID));
        int count = (int) (meta >>> 40);
        long rest = entries[e + 3];
        for (int k = 1; k < count; k++, rest >>>= PairMap.BITS) {
            out.add((int) (rest & ID));
        }
        return true;
    }

    /** Where the set of a piece's hash begins in {@link #entries}: two entries of four longs. */
    private static int set(int hash) {
        return (hash & (1 << BITS) - 2) << 2;
    }

    /** Swaps the two entries of the set at {@code e}: its second was hit, so it has proved it repeats. */
    private void promote(int e) {
        for (int k = e; k < e + 4; k++) {
            long t = entries[k];
            entries[k] = entries[k + 4];
            entries[k + 4] = t;
        }
    }

    private boolean matches(int e, long k0, long k1, int length) {
        return (int) (entries[e + 2] >>> 32 & 0xFF) == length && entries[e] == k0 && entries[e + 1] == k1;
    }

    /** Remembers the tokens {@code out[from, out.size())} of a piece, when there are few enough, as its set's second. */
    void put(long k0, long k1, int length, int hash, IntList out, int from) {
        int count = out.size() - from;
        if (count > MAX_TOKENS) {
            return;
        }
        int e = set(hash) + 4;
        long rest = 0;
        for (int k = count - 1; k >= 1; k--) {
            rest = rest << PairMap.BITS | out.get(from + k);
        }
        entries[e] = k0;
        entries[e + 1] = k1;
        entries[e + 2] = (long) count << 40 | (long) length << 32 | out.get(from);
        entries[e + 3] = rest;
    }
}
