package io.llmstream.tokenizer;

/**
 * Byte-level BPE over one piece: start from one symbol per byte and repeatedly merge the adjacent pair of lowest rank,
 * the leftmost on ties, until no pair merges (tiktoken's and HuggingFace's order). Two rank schemes are supported:
 * tiktoken's, where two adjacent symbols merge when their concatenated bytes are a token, at that token's rank (= id),
 * and HuggingFace's, where a pair merges when a merge rule names it, at the rule's index, into the rule's token.
 * SentencePiece-style BPE starts from characters instead: its symbols come from the caller ({@link #encodeSymbols}).
 *
 * <p>Short pieces use a rescan of a small array (tiktoken's loop: quadratic, but fastest for a few dozen bytes); long
 * ones a linked list swept rank by rank ({@link RankGroups}), near-linear, so a megabyte with no split point stays cheap.
 * Pieces of up to 16 bytes are cached per thread ({@link PieceCache}).
 */
final class BytePairEncoder {
    /** Pieces up to this many bytes use the array rescan; longer ones the linked list and queue. */
    static final int SHORT_PIECE = 96;
    private static final int NONE = Integer.MAX_VALUE;
    /** How many positions ahead the long-piece sweep loads its nodes early (see {@link #mergeLong}). */
    private static final int AHEAD = 8;

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
    /** One past the largest rank. */
    private final int rankLimit;
    private final ThreadLocal<PieceCache> caches = ThreadLocal.withInitial(PieceCache::new);

    private BytePairEncoder(Vocabulary vocabulary, PairMap pairs, int[] mergeResults, long[] merges,
                            boolean wholePieceFirst, boolean byteLevel) {
        this.vocabulary = vocabulary;
        this.pairs = pairs;
        this.mergeResults = mergeResults;
        this.merges = merges;
        this.wholePieceFirst = wholePieceFirst;
        this.rankLimit = mergeResults == null ? vocabulary.size() : mergeResults.length;
        if (!byteLevel) {
            return; // symbols come from the caller (encodeSymbols): no byte tables
        }
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
        return new BytePairEncoder(vocabulary, null, null, null, true, true);
    }

    /**
     * HuggingFace's scheme: the merge rules in priority order, {@code left[i] right[i] -> result[i]};
     * {@code ignoreMerges} looks a whole piece up in the vocabulary first (Llama-3).
     */
    static BytePairEncoder merges(Vocabulary vocabulary, int[] left, int[] right, int[] result, boolean ignoreMerges) {
        return merges(vocabulary, left, right, result, ignoreMerges, true);
    }

    /**
     * HuggingFace's scheme over symbols the caller makes ({@link #encodeSymbols}), as SentencePiece-style BPE starts
     * from characters rather than bytes.
     */
    static BytePairEncoder characterMerges(Vocabulary vocabulary, int[] left, int[] right, int[] result) {
        return merges(vocabulary, left, right, result, false, false);
    }

    private static BytePairEncoder merges(Vocabulary vocabulary, int[] left, int[] right, int[] result,
                                          boolean ignoreMerges, boolean byteLevel) {
        PairMap pairs = new PairMap(left.length);
        long[] merges = new long[left.length];
        for (int rank = 0; rank < left.length; rank++) {
            pairs.put(left[rank], right[rank], rank);
            merges[rank] = (long) left[rank] << 32 | right[rank];
        }
        return new BytePairEncoder(vocabulary, pairs, result.clone(), merges, ignoreMerges, byteLevel);
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

    /** Appends the token of a piece of one byte. */
    void encodeByte(int b, IntList out) {
        out.add(byteIds[b]);
    }

    /**
     * Appends the tokens of the piece {@code bytes[0, length)} to {@code out}. {@code bytes} must have
     * {@link PieceCache#SLACK} bytes of room after the piece (the encoder's buffers do).
     */
    void encode(byte[] bytes, int length, IntList out, PieceCache cache, Scratch scratch) {
        if (length == 1) {
            encodeByte(bytes[0] & 0xFF, out);
        } else if (length <= PieceCache.MAX_LENGTH) {
            encodeShort(PieceCache.firstWord(bytes, length), PieceCache.secondWord(bytes, length), length, bytes,
                    out, cache, scratch);
        } else {
            encodeUncached(bytes, length, out, cache, scratch);
        }
    }

    /**
     * Appends the tokens of a piece of up to 16 bytes given as two little-endian words (bytes 0-7 and 8-15, zero
     * padded), through the cache; {@code bytes} holds the piece, or is a buffer of at least 16 + 16 bytes to spell
     * it into on a miss.
     */
    void encodeShort(long k0, long k1, int length, byte[] bytes, IntList out, PieceCache cache, Scratch scratch) {
        if (length == 1) {
            encodeByte((int) k0 & 0xFF, out);
            return;
        }
        int hash = PieceCache.hash(k0, k1, length);
        if (cache.get(k0, k1, length, hash, out)) {
            return;
        }
        PieceCache.spell(k0, k1, bytes);
        int from = out.size();
        encodeUncached(bytes, length, out, cache, scratch);
        cache.put(k0, k1, length, hash, out, from);
    }

    /**
     * Appends the merge of {@code symbols[0, n)}, initial token ids made by the caller (HuggingFace's scheme only);
     * {@code symbols} may be the scratch's own {@code symbols} array.
     */
    void encodeSymbols(int[] symbols, int n, IntList out, Scratch scratch) {
        if (n <= SHORT_PIECE) {
            scratch.ensureSymbols(n + 1);
            int[] own = scratch.symbols;
            if (own != symbols) {
                System.arraycopy(symbols, 0, own, 0, n);
            }
            int[] ranks = scratch.ranks;
            for (int i = 0; i < n; i++) {
                scratch.starts[i] = i;
                ranks[i] = i + 1 < n ? pairs.rank(own[i], own[i + 1]) : NONE;
            }
            scratch.starts[n] = n;
            rescan(null, n, out, null, scratch);
        } else {
            long[] nodes = scratch.nodes(n);
            RankGroups groups = scratch.groups;
            groups.reset(rankLimit);
            for (int i = 0; i < n; i++) {
                int rank = i + 1 < n ? pairs.rank(symbols[i], symbols[i + 1]) : NONE;
                nodes[i] = node(symbols[i], rank, 1, 1);
                if (rank != NONE) {
                    groups.add(rank, i);
                }
            }
            sweep(null, n, out, null, scratch);
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
        rescan(bytes, length, out, cache, scratch);
    }

    /**
     * The array rescan over {@code scratch.symbols[0, n)}, their {@code ranks} and {@code starts} filled in;
     * {@code bytes} is read by tiktoken's scheme only.
     */
    private void rescan(byte[] bytes, int n, IntList out, PieceCache cache, Scratch scratch) {
        int[] symbols = scratch.symbols;
        int[] starts = scratch.starts;
        int[] ranks = scratch.ranks;
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
     * order symbols left to right and a symbol spans up to its successor's position). Each position's node is one
     * long: its symbol, the rank of the pair it starts, and the distances to its neighbours, which never exceed a
     * token's length (at most 255 bytes), so a merge touches a few words rather than four arrays.
     *
     * <p>Pairs wait in groups by rank ({@link RankGroups}). The lowest rank's positions are swept left to right:
     * that is tiktoken's order (lowest rank, then leftmost), because a merge never forms a pair of its own rank (the
     * new pair's token is longer than the merged one). It can form a pair of a lower rank, which must come first: the
     * sweep then stops and puts its remaining positions back. Entries whose pair has changed since are skipped.
     *
     * <p>A rank's positions lie far apart in megabytes of nodes, so each is a cache miss; the sweep loads the node
     * {@value #AHEAD} positions ahead early (Java has no prefetch instruction), so that several misses are in flight
     * at once: a quarter faster on a megabyte of random letters.
     */
    private void mergeLong(byte[] bytes, int length, IntList out, PieceCache cache, Scratch scratch) {
        long[] nodes = scratch.nodes(length);
        RankGroups groups = scratch.groups;
        groups.reset(rankLimit);
        for (int i = 0; i < length; i++) {
            int rank = i + 1 < length ? bytePairRanks[(bytes[i] & 0xFF) << 8 | bytes[i + 1] & 0xFF] : NONE;
            nodes[i] = node(byteIds[bytes[i] & 0xFF], rank, 1, 1);
            if (rank != NONE) {
                groups.add(rank, i);
            }
        }
        sweep(bytes, length, out, cache, scratch);
    }

    /** The rank-by-rank sweep over {@code scratch}'s nodes and groups, filled in for {@code length} positions. */
    private void sweep(byte[] bytes, int length, IntList out, PieceCache cache, Scratch scratch) {
        long[] nodes = scratch.nodes(length);
        RankGroups groups = scratch.groups;
        int[][] sweep = scratch.sweep;
        long touched = 0;
        while (!groups.isEmpty()) {
            int rank = groups.lowestRank();
            int count = groups.drain(sweep);
            int[] batch = sweep[0];
            for (int k = 0; k < count; k++) {
                if (k + AHEAD < count) { // a plain load issued early, as a prefetch: see the method's comment
                    touched ^= nodes[batch[k + AHEAD]];
                }
                int at = batch[k];
                long node = nodes[at];
                if (rank(node) != rank) {
                    continue; // the pair changed since it was grouped
                }
                int right = next(at, node);
                long rightNode = nodes[right];
                int after = next(right, rightNode);
                int before = prev(at, node);
                int symbol = result(rank);
                nodes[right] = node(symbol(rightNode), NONE, after - right, right - at); // right is gone
                int lowest = NONE;
                int r = NONE;
                if (after < length) {
                    long afterNode = nodes[after];
                    nodes[after] = node(symbol(afterNode), rank(afterNode), next(after, afterNode) - after, after - at);
                    r = rank(bytes, symbol, symbol(afterNode), at, next(after, afterNode), cache);
                    if (r != NONE) {
                        groups.add(r, at);
                        lowest = r;
                    }
                }
                nodes[at] = node(symbol, r, after - at, at - before);
                if (before >= 0) {
                    long beforeNode = nodes[before];
                    r = rank(bytes, symbol(beforeNode), symbol, before, after, cache);
                    nodes[before] = node(symbol(beforeNode), r, at - before, before - prev(before, beforeNode));
                    if (r != NONE) {
                        groups.add(r, before);
                        lowest = Math.min(lowest, r);
                    }
                }
                if (lowest < rank) { // a lower-ranked pair appeared: it goes first, the rest of the sweep waits
                    for (int rest = k + 1; rest < count; rest++) {
                        groups.add(rank, batch[rest]);
                    }
                    break;
                }
            }
        }
        for (int i = 0; i < length; i = next(i, nodes[i])) {
            out.add(symbol(nodes[i]));
        }
        scratch.sink = touched; // so the JIT keeps the early loads
    }

    // a node: symbol (21 bits), rank (21 bits, all ones for none), distance to the next and to the previous node

    private static long node(int symbol, int rank, int toNext, int toPrev) {
        long r = rank == NONE ? PairMap.FIELD : rank;
        return symbol | r << 21 | (long) toNext << 42 | (long) toPrev << 52;
    }

    private static int symbol(long node) {
        return (int) (node & PairMap.FIELD);
    }

    private static int rank(long node) {
        long r = node >>> 21 & PairMap.FIELD;
        return r == PairMap.FIELD ? NONE : (int) r;
    }

    private static int next(int at, long node) {
        return at + (int) (node >>> 42 & 0x3FF);
    }

    private static int prev(int at, long node) {
        return at - (int) (node >>> 52 & 0x3FF);
    }

}
