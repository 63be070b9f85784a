package io.llmstream.tokenizer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Token bytes to token id, laid out for few cache misses, since BPE probes this map for every candidate merge.
 * Tokens of up to 8 bytes (three quarters of a vocabulary, and nearly all merge candidates) sit in slots of two longs,
 * the bytes and {@code length << 32 | id}: one probe, one cache line, exact. Longer tokens sit in slots of one long, a
 * 32-bit fingerprint of their hash, their length and their id, the bytes being compared in place in the vocabulary's
 * blob when fingerprint and length agree.
 */
final class ByteSequenceMap {
    /** Callers give keys this many bytes of room after their end, so hashing reads whole words. */
    static final int SLACK = 8;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_LENGTH = 0xFF;
    private static final int MAX_ID = (1 << 24) - 1;

    private static final int SHORT = 8;

    /** Pairs {@code bytes (little-endian, zero padded), length << 32 | id}; a 0 second word = empty. */
    private final long[] shortSlots;
    private final int shortShift;
    /** {@code fingerprint << 32 | length << 24 | id}; 0 = empty (length is never 0). */
    private final long[] slots;
    private final int shift;
    private final byte[] blob;
    private final int[] offsets;

    /** Indexes the tokens {@code members} whose bytes are {@code blob[offsets[id], offsets[id + 1])}. */
    ByteSequenceMap(byte[] blob, int[] offsets, int[] members) {
        this.blob = blob;
        this.offsets = offsets;
        int shortCount = 0;
        for (int id : members) {
            shortCount += offsets[id + 1] - offsets[id] <= SHORT ? 1 : 0;
        }
        int shortCapacity = Integer.highestOneBit(Math.max(16, shortCount * 3 / 2) - 1) << 1; // load at most 2/3
        shortSlots = new long[2 * shortCapacity];
        shortShift = 64 - Integer.numberOfTrailingZeros(shortCapacity);
        int capacity = Integer.highestOneBit(Math.max(16, (members.length - shortCount) * 5 / 4) - 1) << 1; // <= 0.8
        slots = new long[capacity];
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
        for (int id : members) {
            int start = offsets[id];
            int length = offsets[id + 1] - start;
            if (length > MAX_LENGTH || id > MAX_ID) {
                throw new IllegalArgumentException("token " + id + " is too long or its id too large");
            }
            int existing = get(blob, start, length);
            if (existing >= 0) {
                throw new IllegalArgumentException("tokens " + existing + " and " + id + " have the same bytes");
            }
            if (length <= SHORT) {
                long word = word(blob, start, length);
                int i = shortIndex(word, length);
                while (shortSlots[2 * i + 1] != 0) {
                    i = i + 1 & shortCapacity - 1;
                }
                shortSlots[2 * i] = word;
                shortSlots[2 * i + 1] = (long) length << 32 | id;
            } else {
                long h = hash(blob, start, length);
                int i = (int) (h >>> shift);
                while (slots[i] != 0) {
                    i = i + 1 & capacity - 1;
                }
                slots[i] = h << 32 | (long) length << 24 | id;
            }
        }
    }

    /** The id of the token with bytes {@code key[from, from + length)}, or -1. */
    int get(byte[] key, int from, int length) {
        if (length <= SHORT) {
            long word = word(key, from, length);
            long meta = (long) length << 32;
            int mask = shortSlots.length / 2 - 1;
            for (int i = shortIndex(word, length); ; i = i + 1 & mask) {
                long m = shortSlots[2 * i + 1];
                if (m == 0) {
                    return -1;
                }
                if (shortSlots[2 * i] == word && (m & ~(long) MAX_ID) == meta) {
                    return (int) m & MAX_ID;
                }
            }
        }
        if (length > MAX_LENGTH) {
            return -1;
        }
        long h = hash(key, from, length);
        long tag = h << 32 | (long) length << 24;
        int mask = slots.length - 1;
        for (int i = (int) (h >>> shift); ; i = i + 1 & mask) {
            long slot = slots[i];
            if (slot == 0) {
                return -1;
            }
            if ((slot & ~(long) MAX_ID) == tag) {
                int id = (int) slot & MAX_ID;
                if (equal(blob, offsets[id], key, from, length)) {
                    return id;
                }
            }
        }
    }

    private int shortIndex(long word, int length) {
        return (int) (mix(word + length) * 0x9E3779B97F4A7C15L >>> shortShift);
    }

    /** Up to 8 bytes as a little-endian long, zero padded; a whole-word read when the array has room. */
    private static long word(byte[] b, int from, int length) {
        if (from + 8 <= b.length) {
            long w = (long) LONGS.get(b, from);
            return length == 8 ? w : w & (1L << 8 * length) - 1;
        }
        long w = 0;
        for (int k = length - 1; k >= 0; k--) {
            w = w << 8 | b[from + k] & 0xFF;
        }
        return w;
    }

    /** Whether {@code a[i, i + length)} equals {@code b[j, j + length)}, a word at a time where both have room. */
    private static boolean equal(byte[] a, int i, byte[] b, int j, int length) {
        int k = 0;
        while (length - k >= 8 && i + k + 8 <= a.length && j + k + 8 <= b.length) {
            if ((long) LONGS.get(a, i + k) != (long) LONGS.get(b, j + k)) {
                return false;
            }
            k += 8;
        }
        int rest = length - k;
        if (rest > 0 && i + k + 8 <= a.length && j + k + 8 <= b.length) {
            long mask = (1L << 8 * rest) - 1;
            return (((long) LONGS.get(a, i + k) ^ (long) LONGS.get(b, j + k)) & mask) == 0;
        }
        for (; k < length; k++) {
            if (a[i + k] != b[j + k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * A 64-bit hash of {@code b[from, from + length)}: the high bits pick the slot, the low 32 are the fingerprint.
     * Reads whole little-endian words where the array has room, so the value never depends on bytes past the key.
     */
    static long hash(byte[] b, int from, int length) {
        long h = 0x9E3779B97F4A7C15L * (length + 1);
        int i = from;
        int end = from + length;
        while (end - i >= 8) {
            h = mix(h ^ (long) LONGS.get(b, i));
            i += 8;
        }
        if (end > i) {
            h = mix(h ^ word(b, i, end - i));
        }
        return mix(h);
    }

    private static long mix(long h) {
        h *= 0xC2B2AE3D27D4EB4FL;
        return h ^ h >>> 31;
    }
}
