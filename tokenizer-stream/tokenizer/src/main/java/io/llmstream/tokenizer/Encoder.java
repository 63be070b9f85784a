package io.llmstream.tokenizer;

import java.util.Objects;

/**
 * The encoding engine behind {@link Tokenizer}: cuts added tokens out, normalizes, pre-tokenizes and merges each
 * piece's bytes with BPE. One {@link Call} carries a call's own state; the thread's {@link Scratch} only lends buffers.
 */
final class Encoder {
    private final BytePairEncoder bpe;
    private final Vocabulary vocabulary;
    private final PreTokenizer preTokenizer;
    /** The pre-tokenizer's scanner when it is just that (tiktoken encodings): then pieces are pulled one by one. */
    private final Scanner scanner;
    /** The scanner's rules for ASCII words, for the fused path of {@link #encodeScanned}; null when it has none. */
    private final Scanner.AsciiWords words;
    private final TextNormalizer normalizer;
    private final AddedTokens added;
    /** SentencePiece-style BPE's characters (then the text between added tokens is one piece); null for byte-level. */
    private final SentencePiece sentencePiece;
    private final boolean replaceLoneSurrogates;

    Encoder(BytePairEncoder bpe, PreTokenizer preTokenizer, TextNormalizer normalizer, AddedTokens added,
            SentencePiece sentencePiece) {
        this.bpe = bpe;
        this.vocabulary = bpe.vocabulary();
        this.preTokenizer = preTokenizer;
        this.scanner = preTokenizer.singleScanner();
        this.words = scanner == null ? null : scanner.asciiWords();
        this.normalizer = normalizer;
        this.added = added;
        this.sentencePiece = sentencePiece;
        // regexes, normalizers and characters would see a lone surrogate, tiktoken sees U+FFFD; the scanners treat
        // both alike
        this.replaceLoneSurrogates = preTokenizer.usesRegex() || !normalizer.isIdentity() || sentencePiece != null;
    }

    /**
     * One encoding call: its text (lone surrogates replaced), the tokens so far, the count at which it stops, the
     * pieces it logs for truncation (null when it does not), and this encoder's piece cache for the calling thread.
     */
    static final class Call {
        final Scratch scratch;
        final char[] text;
        final IntList out;
        final int limit;
        final PieceLog log;
        final PieceCache cache;

        private Call(Scratch scratch, char[] text, int limit, boolean logPieces, PieceCache cache) {
            this.scratch = scratch;
            this.text = text;
            this.out = scratch.out;
            this.limit = limit;
            this.log = logPieces ? scratch.log : null;
            this.cache = cache;
            out.clear();
            scratch.log.clear();
        }

        /** False once the output holds {@link #limit} tokens. */
        boolean goesOn() {
            return out.size() < limit;
        }
    }

    /**
     * Encodes {@code text} into the returned call's {@code out}, stopping once it holds {@code limit} tokens;
     * {@code logPieces} records what truncation needs for {@link #cutOffset}.
     */
    Call encode(String text, SpecialTokens policy, Scratch scratch, int limit, boolean logPieces) {
        Objects.requireNonNull(policy, "policy");
        if (replaceLoneSurrogates && Utf8.hasLoneSurrogate(text)) {
            text = Utf8.replaceLoneSurrogates(text);
        }
        int n = text.length();
        Call call = new Call(scratch, scratch.text(text), limit, logPieces, bpe.cache());
        char[] s = call.text;
        if (added.size() == 0) {
            encodeNormalizing(s, 0, n, null, call);
            return call;
        }
        AddedTokens.Masks masks = added.masks(policy);
        if (masks.rejected() != null) {
            int k = added.find(s, 0, 0, n, 0, masks.rejected(), scratch.bounds);
            if (k >= 0) {
                throw new DisallowedSpecialTokenException(added.get(k).content());
            }
        }
        if (masks.raw() == null) {
            encodeNormalizing(s, 0, n, masks.normalized(), call);
        } else {
            encodeAdded(s, 0, n, masks.raw(), true, null, masks.normalized(), call);
        }
        return call;
    }

    /** The char offset of the token boundary before token {@code cut} of a logged call; see {@link PieceLog}. */
    int cutOffset(Call call, int cut, boolean keepRight) {
        return call.log.cutOffset(call.out, vocabulary, call.text, cut, keepRight);
    }

    /**
     * Cuts the enabled added tokens out of {@code s[from, to)} and encodes the text between them: raw text goes on
     * to normalization (then the tokens matched on normalized text, {@code normalizedTokens}, are cut out), normalized
     * text (offsets mapped by {@code nz}, null when normalizing changed nothing) to pre-tokenization. Returns false
     * once the token limit is reached.
     */
    private boolean encodeAdded(char[] s, int from, int to, boolean[] enabled, boolean raw,
                                TextNormalizer.Normalized nz, boolean[] normalizedTokens, Call call) {
        int[] bounds = call.scratch.bounds;
        int gap = from;
        while (gap < to) {
            int k = added.find(s, from, gap, to, gap, enabled, bounds);
            if (k < 0) {
                break;
            }
            int start = bounds[0];
            int end = bounds[1];
            if (start > gap && !(raw ? encodeNormalizing(s, gap, start, normalizedTokens, call)
                    : encodeOrdinary(s, gap, start, nz, call))) {
                return false;
            }
            call.out.add(added.get(k).id());
            if (!logged(start, end, false, nz, call)) {
                return false;
            }
            gap = end;
        }
        return gap >= to || (raw ? encodeNormalizing(s, gap, to, normalizedTokens, call)
                : encodeOrdinary(s, gap, to, nz, call));
    }

    private boolean encodeNormalizing(char[] s, int from, int to, boolean[] normalizedTokens, Call call) {
        TextNormalizer.Normalized nz = normalizer.normalize(s, from, to);
        char[] text = nz == null ? s : nz.text;
        int start = nz == null ? from : 0;
        int end = nz == null ? to : nz.text.length;
        if (normalizedTokens != null) {
            return encodeAdded(text, start, end, normalizedTokens, false, nz, null, call);
        }
        return encodeOrdinary(text, start, end, nz, call);
    }

    /** Pre-tokenizes {@code s[from, to)} and encodes each piece. */
    private boolean encodeOrdinary(char[] s, int from, int to, TextNormalizer.Normalized nz, Call call) {
        if (from >= to) {
            return true;
        }
        if (sentencePiece != null) {
            return encodeSentencePiece(s, from, to, nz, call);
        }
        if (scanner != null) {
            return encodeScanned(s, from, to, nz, call);
        }
        Scratch scratch = call.scratch;
        preTokenizer.split(s, from, to, scratch);
        Pieces pieces = scratch.pieces;
        for (int i = 0, n = pieces.size(); i < n; i++) {
            if (!encodePiece(s, pieces.start(i), pieces.end(i), pieces.flag(i), nz, call)) {
                return false;
            }
        }
        return true;
    }

    /** SentencePiece-style: the text's pieces (one, or one per word), the first after a "▁" if the scheme says so. */
    private boolean encodeSentencePiece(char[] s, int from, int to, TextNormalizer.Normalized nz, Call call) {
        boolean prefixed = sentencePiece.prefixes(s, from, to);
        for (int start = from; start < to; prefixed = false) {
            int end = sentencePiece.pieceEnd(s, start, to);
            int n = sentencePiece.symbols(s, start, end, prefixed, call.scratch);
            bpe.encodeSymbols(call.scratch.symbols, n, call.out, call.scratch);
            if (!logged(start, end, prefixed, nz, call)) { // a prefixed piece's tokens spell " " + its text
                return false;
            }
            start = end;
        }
        return true;
    }

    /**
     * Cuts {@code s[i, to)} into pieces with the scanner and encodes them. The commonest pieces take a fused path
     * (when the scanner has one, {@link Scanner.AsciiWords}): words of ASCII letters after an optional prefix char, of
     * at most 16 chars, each found and packed into its cache key in one pass over its chars, and ASCII chars that are
     * a piece of their own. Whatever that path is unsure of, the scanner decides. False once the token limit is reached.
     */
    private boolean encodeScanned(char[] s, int i, int to, TextNormalizer.Normalized nz, Call call) {
        Scanner.AsciiWords words = this.words;
        while (i < to) {
            int e = -1; // the end of the piece at i, once the fused path has encoded it
            char c = s[i];
            if (words != null && c < 0x80 && i + 1 < to) {
                char d = s[i + 1];
                int kind = words.pieceAt(c, d);
                if (kind == Scanner.AsciiWords.WORD) {
                    boolean lower = c >= 'a' && c <= 'z';
                    long k0 = c;
                    long k1 = 0;
                    int limit = Math.min(to, i + PieceCache.MAX_LENGTH);
                    int k = i + 1;
                    int half = Math.min(limit, i + 8);
                    for (char x; k < half && words.goesOn(x = s[k], lower); k++) {
                        lower |= x >= 'a';
                        k0 |= (long) x << (k - i << 3);
                    }
                    if (k == half) { // chars 8-15 go to the second word: a long's shift counts mod 64
                        for (char x; k < limit && words.goesOn(x = s[k], lower); k++) {
                            lower |= x >= 'a';
                            k1 |= (long) x << (k - i << 3);
                        }
                    }
                    if (k == to || words.endsBefore(s[k], lower)) {
                        bpe.encodeShort(k0, k1, k - i, call.scratch.bytes, call.out, call.cache, call.scratch);
                        e = k;
                    }
                } else if (kind == Scanner.AsciiWords.ALONE) {
                    bpe.encodeByte(c, call.out);
                    e = i + 1;
                }
            }
            if (e < 0) {
                e = scanner.next(s, i, to);
                if (!encodePiece(s, i, e, false, nz, call)) {
                    return false;
                }
            } else if (!logged(i, e, false, nz, call)) {
                return false;
            }
            i = e;
        }
        return true;
    }

    private boolean encodePiece(char[] s, int start, int end, boolean prefixSpace, TextNormalizer.Normalized nz,
                                Call call) {
        Scratch scratch = call.scratch;
        byte[] bytes = scratch.bytes;
        int capacity = Utf8.maxBytes(end - start) + PieceCache.SLACK; // room for whole-word key reads
        if (capacity > bytes.length) {
            bytes = scratch.bytes(capacity);
        }
        int n = end - start;
        if (n <= PieceCache.MAX_LENGTH && !prefixSpace) {
            // the common short ASCII piece: its chars are its bytes, packed straight into the cache key
            long k0 = 0;
            long k1 = 0;
            int seen = 0;
            for (int k = 0; k < n; k++) {
                char c = s[start + k];
                seen |= c;
                if (k < 8) {
                    k0 |= (long) c << 8 * k;
                } else {
                    k1 |= (long) c << 8 * (k - 8);
                }
            }
            if (seen < 0x80) {
                bpe.encodeShort(k0, k1, n, bytes, call.out, call.cache, scratch);
                return logged(start, end, false, nz, call);
            }
        }
        int length = Utf8.encode(s, start, end, prefixSpace, bytes);
        bpe.encode(bytes, length, call.out, call.cache, scratch);
        return logged(start, end, prefixSpace, nz, call);
    }

    /** Logs the piece when the call logs pieces; false once the token limit is reached. */
    private static boolean logged(int start, int end, boolean prefixSpace, TextNormalizer.Normalized nz, Call call) {
        if (call.log != null) {
            call.log.add(call.out.size(), nz == null ? start : nz.toOriginal(start, false),
                    nz == null ? end : nz.toOriginal(end, true), nz == null || nz.isExact(start, end), prefixSpace);
        }
        return call.goesOn();
    }
}
