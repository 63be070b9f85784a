package io.llmstream.tokenizer;

/**
 * Byte-level BPE over one piece: start from one symbol per byte and repeatedly merge the adjacent pair of lowest rank,
 * the leftmost on ties, until no pair merges (tiktoken's and HuggingFace's order). Two rank schemes are supported:
 * tiktoken's, where two adjacent symbols merge when their concatenated bytes are a token, at that token's rank (= id),
 * and HuggingFace's, where a pair merges when a merge rule names it, at the rule's index, into the rule's token.
 *
 * <p>Short pieces use a rescan of a small array (tiktoken's loop: quadratic, but fastest for a few dozen bytes); long
 * ones a linked list with a radix-heap queue of candidate pairs ({@link RadixQueue}), near-linear, so a megabyte with no split point stays cheap.
 * Pieces of up to 16 bytes are cached per thread ({@link PieceCache}).
 */
final class BytePairEncoder {
    /** Pieces up to this many bytes use the array rescan; longer ones the heap. */
    static final int SHORT_PIECE = 96;
    private static final int NONE = Integer.MAX_VALUE;
    /** Fields of a node of the long-piece merge. */
    private static final int SYMBOL = 0;
    private static final int RANK = 1;
    private static final int NEXT = 2;
    private static final int PREV = 3;

    private final Vocabulary vocabulary;
    /** HuggingFace's merge rules: pair of ids to rank; null for tiktoken's scheme. */
    private final PairMap pairs;
    /** Rank to resulting token id (HuggingFace); null for tiktoken, where the rank is the id. */
    private final int[] mergeResults;
    /** The merge rules in rank order, {@code left << 32 | right}; null for tiktoken. */
    private final long[] merges;
    private final int[] byteIds = new int[256];
    /** The rank of every pair of single bytes, dense: the first round of every merge reads only this (256 KiB). */
    private final int[] bytePairRanks = new int[256 * 256];
    private final boolean wholePieceFirst;
    private final ThreadLocal<PieceCache> caches = ThreadLocal.withInitial(PieceCache::new);

    private BytePairEncoder(Vocabulary vocabulary, PairMap pairs, int[] mergeResults, long[] merges,
                            boolean wholePieceFirst) {
        this.vocabulary = vocabulary;
        this.pairs = pairs;
        this.mergeResults = mergeResults;
        this.merges = merges;
        this.wholePieceFirst = wholePieceFirst;
        byte[] two = new byte[2];
        for (int b = 0; b < 256; b++) {
            two[0] = (byte) b;
            byteIds[b] = vocabulary.find(two, 0, 1);
            // 0xC0, 0xC1 and 0xF5..0xFF never occur in UTF-8, so a vocabulary may leave them out
            if (byteIds[b] < 0 && b != 0xC0 && b != 0xC1 && b < 0xF5) {
                throw new IllegalArgumentException("the vocabulary has no token for the single byte 0x"
                        + Integer.toHexString(b) + ", needed for byte-level BPE");
            }
        }
        for (int pair = 0; pair < bytePairRanks.length; pair++) {
            two[0] = (byte) (pair >>> 8);
            two[1] = (byte) pair;
            int left = byteIds[pair >>> 8];
            int right = byteIds[pair & 0xFF];
            bytePairRanks[pair] = left < 0 || right < 0 ? NONE : rank(two, left, right, 0, 2, null);
        }
    }

    /** tiktoken's scheme; a piece that is a token is that token, before any merging. */
    static BytePairEncoder ranked(Vocabulary vocabulary) {
        return new BytePairEncoder(vocabulary, null, null, null, true);
    }

    /**
     * HuggingFace's scheme: the merge rules in priority order, {@code left[i] right[i] -> result[i]};
     * {@code ignoreMerges} looks a whole piece up in the vocabulary first (Llama-3).
     */
    static BytePairEncoder merges(Vocabulary vocabulary, int[] left, int[] right, int[] result, boolean ignoreMerges) {
        PairMap pairs = new PairMap(left.length);
        long[] merges = new long[left.length];
        for (int rank = 0; rank < left.length; rank++) {
            pairs.put(left[rank], right[rank], rank);
            merges[rank] = (long) left[rank] << 32 | right[rank];
        }
        return new BytePairEncoder(vocabulary, pairs, result.clone(), merges, ignoreMerges);
    }

    Vocabulary vocabulary() {
        return vocabulary;
    }

    boolean wholePieceFirst() {
        return wholePieceFirst;
    }

    /** The merge rules in rank order as {@code left << 32 | right}, or null for tiktoken's scheme. */
    long[] mergeRules() {
        return merges == null ? null : merges.clone();
    }

    /** This thread's cache of piece encodings, to be passed to {@link #encode}. */
    PieceCache cache() {
        return caches.get();
    }

    /**
     * Appends the tokens of the piece {@code bytes[0, length)} to {@code out}. {@code bytes} must have
     * {@link PieceCache#SLACK} bytes of room after the piece (the encoder's buffers do).
     */
    void encode(byte[] bytes, int length, IntList out, PieceCache cache, Scratch scratch) {
        if (length == 1) {
            out.add(byteIds[bytes[0] & 0xFF]);
            return;
        }
        if (length <= PieceCache.MAX_LENGTH) {
            long k0 = PieceCache.firstWord(bytes, length);
            long k1 = PieceCache.secondWord(bytes, length);
            int hash = PieceCache.hash(k0, k1, length);
            if (cache.get(k0, k1, length, hash, out)) {
                return;
            }
            int from = out.size();
            encodeUncached(bytes, length, out, cache, scratch);
            cache.put(k0, k1, length, hash, out, from);
        } else {
            encodeUncached(bytes, length, out, cache, scratch);
        }
    }

    private void encodeUncached(byte[] bytes, int length, IntList out, PieceCache cache, Scratch scratch) {
        if (wholePieceFirst) {
            int id = vocabulary.find(bytes, 0, length);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        if (length <= SHORT_PIECE) {
            mergeShort(bytes, length, out, cache, scratch);
        } else {
            mergeLong(bytes, length, out, cache, scratch);
        }
    }

    /**
     * The rank of merging two adjacent symbols, {@code left} covering {@code bytes[start, ...)} and {@code right}
     * ending at {@code end}, or {@link #NONE}.
     */
    private int rank(byte[] bytes, int left, int right, int start, int end, PieceCache cache) {
        int rank = cache == null ? PieceCache.UNKNOWN : cache.rank(left, right);
        if (rank == PieceCache.UNKNOWN) {
            if (pairs != null) {
                rank = pairs.rank(left, right);
            } else {
                int id = end - start > vocabulary.maxMergeableLength() ? -1 : vocabulary.find(bytes, start, end - start);
                rank = id < 0 ? NONE : id;
            }
            if (cache != null) {
                cache.putRank(left, right, rank);
            }
        }
        return rank;
    }

    private int result(int rank) {
        return mergeResults == null ? rank : mergeResults[rank];
    }

    /** {@code symbols[i]} covers {@code bytes[starts[i], starts[i + 1])}; {@code ranks[i]} is pair (i, i + 1)'s. */
    private void mergeShort(byte[] bytes, int length, IntList out, PieceCache cache, Scratch scratch) {
        scratch.ensureSymbols(length + 1);
        int[] symbols = scratch.symbols;
        int[] starts = scratch.starts;
        int[] ranks = scratch.ranks;
        for (int i = 0; i < length; i++) {
            symbols[i] = byteIds[bytes[i] & 0xFF];
            starts[i] = i;
        }
        starts[length] = length;
        for (int i = 0; i < length - 1; i++) {
            ranks[i] = bytePairRanks[(bytes[i] & 0xFF) << 8 | bytes[i + 1] & 0xFF];
        }
        int n = length;
        while (n > 1) {
            int best = NONE;
            int at = -1;
            for (int i = 0; i < n - 1; i++) {
                if (ranks[i] < best) {
                    best = ranks[i];
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            symbols[at] = result(best);
            for (int k = at + 1; k < n - 1; k++) { // a loop beats arraycopy's call overhead for a few ints
                symbols[k] = symbols[k + 1];
                ranks[k] = ranks[k + 1];
                starts[k] = starts[k + 1];
            }
            starts[n - 1] = starts[n];
            n--;
            ranks[at] = at + 1 < n
                    ? rank(bytes, symbols[at], symbols[at + 1], starts[at], starts[at + 2], cache) : NONE;
            if (at > 0) {
                ranks[at - 1] = rank(bytes, symbols[at - 1], symbols[at], starts[at - 1], starts[at + 1], cache);
            }
        }
        for (int i = 0; i < n; i++) {
            out.add(symbols[i]);
        }
    }

    /**
     * Symbols are a doubly linked list over byte positions (a merged symbol keeps its left position, so positions
     * order symbols left to right and a symbol spans up to its successor's position); the queue holds
     * {@code rank << 32 | position} for every pair ever formed, stale entries being skipped when popped. Per position
     * the symbol, the rank of the pair it starts, and the links sit side by side ({@code nodes[4 * i ..]}), since
     * merges come in rank order, all over the piece, and each touches a few neighbouring nodes.
     */
    private void mergeLong(byte[] bytes, int length, IntList out, PieceCache cache, Scratch scratch) {
        int[] nodes = scratch.nodes(4 * (length + 1));
        RadixQueue queue = scratch.queue;
        queue.clear();
        for (int i = 0; i < length; i++) {
            int rank = i + 1 < length ? bytePairRanks[(bytes[i] & 0xFF) << 8 | bytes[i + 1] & 0xFF] : NONE;
            nodes[4 * i + SYMBOL] = byteIds[bytes[i] & 0xFF];
            nodes[4 * i + RANK] = rank;
            nodes[4 * i + NEXT] = i + 1;
            nodes[4 * i + PREV] = i - 1;
            if (rank != NONE) {
                queue.push((long) rank << 32 | i);
            }
        }
        nodes[4 * length + NEXT] = length;
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int at = (int) top;
            int rank = (int) (top >>> 32);
            if (nodes[4 * at + RANK] != rank) {
                continue; // the pair changed since this entry was pushed
            }
            int right = nodes[4 * at + NEXT];
            int symbol = result(rank);
            nodes[4 * at + SYMBOL] = symbol;
            nodes[4 * right + RANK] = NONE; // right is gone
            int after = nodes[4 * right + NEXT];
            nodes[4 * at + NEXT] = after;
            int r = NONE;
            if (after < length) {
                nodes[4 * after + PREV] = at;
                r = rank(bytes, symbol, nodes[4 * after + SYMBOL], at, nodes[4 * after + NEXT], cache);
                if (r != NONE) {
                    queue.push((long) r << 32 | at);
                }
            }
            nodes[4 * at + RANK] = r;
            int before = nodes[4 * at + PREV];
            if (before >= 0) {
                r = rank(bytes, nodes[4 * before + SYMBOL], symbol, before, after, cache);
                nodes[4 * before + RANK] = r;
                if (r != NONE) {
                    queue.push((long) r << 32 | before);
                }
            }
        }
        for (int i = 0; i < length; i = nodes[4 * i + NEXT]) {
            out.add(nodes[4 * i + SYMBOL]);
        }
    }

}
