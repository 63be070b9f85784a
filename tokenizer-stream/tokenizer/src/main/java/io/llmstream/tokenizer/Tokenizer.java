package io.llmstream.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A byte-level BPE tokenizer: tiktoken's encodings (r50k_base, p50k_base, cl100k_base, o200k_base or any .tiktoken
 * rank file) and HuggingFace tokenizer.json files of the byte-level BPE family; see {@link Tokenizers} to load one.
 *
 * <p>Encoding runs: added/special tokens are cut out first, then (tokenizer.json) the text is normalized, cut into
 * pieces by the pre-tokenizer, and each piece's UTF-8 bytes are merged by BPE. Lone UTF-16 surrogates are encoded as
 * U+FFFD, as tiktoken does. Instances are immutable and thread-safe; encoding uses per-thread scratch memory and
 * allocates only its result. Each thread also keeps, per tokenizer it uses, a cache of recent pieces' encodings
 * (about 1.1 MiB), which is what makes repetitive text cheap.
 */
public final class Tokenizer {
    private static final int EXACT = 1;
    private static final int PREFIX_SPACE = 2;
    private static final int LOG_WIDTH = 4;

    private final String name;
    private final BytePairEncoder bpe;
    private final Vocabulary vocabulary;
    private final PreTokenizer preTokenizer;
    /** The pre-tokenizer's scanner when it is just that (tiktoken encodings): then pieces are pulled one by one. */
    private final Scanner scanner;
    /** How the scanner cuts ASCII words for the fused path of {@link #encodeScanned}; null when it has none. */
    private final Scanner.AsciiWords asciiWords;
    private final TextNormalizer normalizer;
    private final AddedTokens added;
    private final boolean replaceLoneSurrogates;
    private final Map<String, Integer> specialTokens;
    /** Computed on first use (hashing megabytes is a visible part of a cold start). */
    private volatile String fingerprint;

    Tokenizer(String name, BytePairEncoder bpe, PreTokenizer preTokenizer, TextNormalizer normalizer,
              AddedTokens added) {
        this.name = Objects.requireNonNull(name);
        this.bpe = bpe;
        this.vocabulary = bpe.vocabulary();
        this.preTokenizer = preTokenizer;
        this.scanner = preTokenizer.singleScanner();
        this.asciiWords = scanner == null ? null : scanner.asciiWords();
        this.normalizer = normalizer;
        this.added = added;
        // regexes and normalizers would see a lone surrogate, tiktoken sees U+FFFD; the scanners treat both alike
        this.replaceLoneSurrogates = preTokenizer.usesRegex() || !normalizer.isIdentity();
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (AddedTokens.Token t : added.list()) {
            if (!vocabulary.contains(t.id())) {
                throw new IllegalArgumentException("added token " + t.content() + " has no id in the vocabulary");
            }
            if (t.special()) {
                specials.put(t.content(), t.id());
            }
        }
        this.specialTokens = Collections.unmodifiableMap(specials);
    }

    /** The encoding's name (a built-in name, or the file it was loaded from). */
    public String name() {
        return name;
    }

    /** One past the largest token id, special tokens included: the size of a model's embedding table. */
    public int vocabSize() {
        return vocabulary.size();
    }

    /** The special tokens and their ids. */
    public Map<String, Integer> specialTokens() {
        return specialTokens;
    }

    /** The id of a special token, if this tokenizer has it. */
    public OptionalInt specialTokenId(String token) {
        Integer id = specialTokens.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * A stable identifier of what this tokenizer computes: a SHA-256 prefix (16 hex digits) over its vocabulary, merge
     * rules, pre-tokenization, normalization and added tokens (not its name).
     */
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) {
            f = computeFingerprint(); // idempotent, so a race computes the same value twice at worst
            fingerprint = f;
        }
        return f;
    }

    /** Encodes text; special-token text is ordinary text (tiktoken's {@code encode_ordinary}). */
    public int[] encode(String text) {
        return encode(text, SpecialTokens.none());
    }

    /**
     * Encodes text, treating special-token text as the policy says.
     *
     * @throws DisallowedSpecialTokenException if the text spells a special token the policy rejects
     */
    public int[] encode(String text, SpecialTokens policy) {
        Scratch scratch = Scratch.acquire();
        try {
            run(text, policy, scratch, Integer.MAX_VALUE, false);
            return scratch.out.toArray();
        } finally {
            scratch.release();
        }
    }

    /** The number of tokens of {@code encode(text)}. */
    public int countTokens(String text) {
        return countTokens(text, Integer.MAX_VALUE);
    }

    /**
     * The number of tokens of {@code encode(text)} if it is at most {@code limit}, else {@code limit + 1}; encoding
     * stops soon after the limit is passed, so counting against a budget costs little on long texts.
     */
    public int countTokens(String text, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative: " + limit);
        }
        int stop = limit == Integer.MAX_VALUE ? limit : limit + 1;
        Scratch scratch = Scratch.acquire();
        try {
            run(text, SpecialTokens.none(), scratch, stop, false);
            return Math.min(scratch.out.size(), stop);
        } finally {
            scratch.release();
        }
    }

    /** Keeps the first {@code maxTokens} tokens of {@code encode(text)}; see {@link Truncation}. */
    public Truncation truncate(String text, int maxTokens) {
        return truncate(text, maxTokens, SpecialTokens.none());
    }

    /** Keeps the first {@code maxTokens} tokens of {@code encode(text, policy)}; see {@link Truncation}. */
    public Truncation truncate(String text, int maxTokens, SpecialTokens policy) {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must not be negative: " + maxTokens);
        }
        Scratch scratch = Scratch.acquire();
        try {
            run(text, policy, scratch, maxTokens == Integer.MAX_VALUE ? maxTokens : maxTokens + 1, true);
            IntList out = scratch.out;
            if (out.size() <= maxTokens) {
                return new Truncation(out.toArray(), text.length(), false);
            }
            return new Truncation(out.toArray(0, maxTokens), cutOffset(scratch, maxTokens, false), true);
        } finally {
            scratch.release();
        }
    }

    /**
     * Keeps the last {@code maxTokens} tokens of {@code encode(text)} (left truncation, for prompts that must end
     * with their latest text); the kept text is {@code text.substring(charOffset)}.
     */
    public Truncation truncateLeft(String text, int maxTokens) {
        return truncateLeft(text, maxTokens, SpecialTokens.none());
    }

    /** Keeps the last {@code maxTokens} tokens of {@code encode(text, policy)}; see {@link #truncateLeft(String, int)}. */
    public Truncation truncateLeft(String text, int maxTokens, SpecialTokens policy) {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must not be negative: " + maxTokens);
        }
        Scratch scratch = Scratch.acquire();
        try {
            run(text, policy, scratch, Integer.MAX_VALUE, true);
            IntList out = scratch.out;
            int total = out.size();
            if (total <= maxTokens) {
                return new Truncation(out.toArray(), 0, false);
            }
            int cut = total - maxTokens;
            return new Truncation(out.toArray(cut, total), cutOffset(scratch, cut, true), true);
        } finally {
            scratch.release();
        }
    }

    /** The bytes the tokens stand for. */
    public byte[] decodeBytes(int[] ids) {
        int length = 0;
        for (int id : ids) {
            if (!vocabulary.contains(id)) {
                throw new IllegalArgumentException("unknown token id " + id + " for " + name);
            }
            length += vocabulary.length(id);
        }
        byte[] bytes = new byte[length];
        int at = 0;
        for (int id : ids) {
            at = vocabulary.copy(id, bytes, at);
        }
        return bytes;
    }

    /** The text the tokens stand for; bytes that are not valid UTF-8 (a cut character) decode as U+FFFD. */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    /**
     * This tokenizer as a HuggingFace tokenizer.json (for model artifacts): loaded by HuggingFace tokenizers or by
     * {@link Tokenizers#load}, it gives the same ids as this tokenizer.
     */
    public String toTokenizerJson() {
        return HuggingFaceJson.write(this);
    }

    @Override
    public String toString() {
        return "Tokenizer[" + name + ", vocabSize=" + vocabSize() + ", fingerprint=" + fingerprint() + "]";
    }

    BytePairEncoder bytePairEncoder() {
        return bpe;
    }

    PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    TextNormalizer normalizer() {
        return normalizer;
    }

    AddedTokens addedTokens() {
        return added;
    }

    // ---- encoding ----------------------------------------------------------------------------------------------

    /** Encodes into {@code scratch.out}, stopping once it holds {@code limit} tokens; logs pieces for truncation. */
    private void run(String text, SpecialTokens policy, Scratch scratch, int limit, boolean log) {
        Objects.requireNonNull(policy, "policy");
        if (replaceLoneSurrogates && Utf8.hasLoneSurrogate(text)) {
            text = Utf8.replaceLoneSurrogates(text);
        }
        int n = text.length();
        char[] s = scratch.text(text);
        scratch.out.clear();
        scratch.log.clear();
        scratch.limit = limit;
        scratch.logging = log;
        scratch.cache = bpe.cache();
        if (added.size() == 0) {
            encodeNormalizing(s, 0, n, null, scratch);
            return;
        }
        AddedTokens.Masks masks = added.masks(policy);
        if (masks.rejected() != null) {
            int k = added.find(s, 0, 0, n, 0, masks.rejected(), scratch.bounds);
            if (k >= 0) {
                throw new DisallowedSpecialTokenException(added.get(k).content());
            }
        }
        if (masks.raw() == null) {
            encodeNormalizing(s, 0, n, masks.normalized(), scratch);
        } else {
            encodeAdded(s, 0, n, masks.raw(), true, null, masks.normalized(), scratch);
        }
    }

    /**
     * Cuts the enabled added tokens out of {@code s[from, to)} and encodes the text between them: raw text goes on
     * to normalization (then the tokens matched on normalized text, {@code normalizedTokens}, are cut out), normalized
     * text (offsets mapped by {@code nz}, null when normalizing changed nothing) to pre-tokenization. Returns false
     * once the token limit is reached.
     */
    private boolean encodeAdded(char[] s, int from, int to, boolean[] enabled, boolean raw,
                                TextNormalizer.Normalized nz, boolean[] normalizedTokens, Scratch scratch) {
        int[] bounds = scratch.bounds;
        int gap = from;
        while (gap < to) {
            int k = added.find(s, from, gap, to, gap, enabled, bounds);
            if (k < 0) {
                break;
            }
            int start = bounds[0];
            int end = bounds[1];
            if (start > gap && !(raw ? encodeNormalizing(s, gap, start, normalizedTokens, scratch)
                    : encodeOrdinary(s, gap, start, nz, scratch))) {
                return false;
            }
            scratch.out.add(added.get(k).id());
            if (scratch.logging) {
                log(scratch, start, end, false, nz);
            }
            if (scratch.out.size() >= scratch.limit) {
                return false;
            }
            gap = end;
        }
        return gap >= to || (raw ? encodeNormalizing(s, gap, to, normalizedTokens, scratch)
                : encodeOrdinary(s, gap, to, nz, scratch));
    }

    private boolean encodeNormalizing(char[] s, int from, int to, boolean[] normalizedTokens, Scratch scratch) {
        TextNormalizer.Normalized nz = normalizer.normalize(s, from, to);
        char[] text = nz == null ? s : nz.text;
        int start = nz == null ? from : 0;
        int end = nz == null ? to : nz.text.length;
        if (normalizedTokens != null) {
            return encodeAdded(text, start, end, normalizedTokens, false, nz, null, scratch);
        }
        return encodeOrdinary(text, start, end, nz, scratch);
    }

    /** Pre-tokenizes {@code s[from, to)} and encodes each piece. */
    private boolean encodeOrdinary(char[] s, int from, int to, TextNormalizer.Normalized nz, Scratch scratch) {
        if (from >= to) {
            return true;
        }
        if (scanner != null) {
            return encodeScanned(s, from, to, nz, scratch);
        }
        preTokenizer.split(s, from, to, scratch);
        Pieces pieces = scratch.pieces;
        for (int i = 0, n = pieces.size(); i < n; i++) {
            if (!encodePiece(s, pieces.start(i), pieces.end(i), pieces.flag(i), nz, scratch)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Cuts {@code s[i, to)} into pieces with the scanner and encodes them. The commonest pieces take a fused path
     * (when the scanner has one, {@link Scanner#asciiWords}): words of ASCII letters after an optional prefix char,
     * of at most 16 chars, each found and packed into its cache key in one pass over its chars, and the one-char
     * pieces of {@link #standsAlone}. Whatever that path is unsure of, the scanner decides. False once the token
     * limit is reached.
     */
    private boolean encodeScanned(char[] s, int i, int to, TextNormalizer.Normalized nz, Scratch scratch) {
        while (i < to) {
            int e = -1; // the end of the piece at i, once the fused path has encoded it
            char c = s[i];
            if (asciiWords != null && c < 0x80 && i + 1 < to) {
                char d = s[i + 1];
                boolean other = c == '\'' || c == '\r' || c >= '0' && c <= '9';
                if (isAsciiLetter(c) || !other && c != '\n' && isAsciiLetter(d)) { // a word, maybe after a prefix
                    boolean lower = c >= 'a' && c <= 'z';
                    long k0 = c;
                    long k1 = 0;
                    int limit = Math.min(to, i + PieceCache.MAX_LENGTH);
                    int k = i + 1;
                    int half = Math.min(limit, i + 8);
                    for (char x; k < half && wordGoesOn(x = s[k], lower); k++) {
                        lower |= x >= 'a';
                        k0 |= (long) x << (k - i << 3);
                    }
                    if (k == half) { // chars 8-15 go to the second word: a long's shift counts mod 64
                        for (char x; k < limit && wordGoesOn(x = s[k], lower); k++) {
                            lower |= x >= 'a';
                            k1 |= (long) x << (k - i << 3);
                        }
                    }
                    // unless the word may go on: non-ASCII letters or marks, o200k's contractions, past 16 chars
                    if (k == to || s[k] < 0x80 && !(cased() && s[k] == '\'') && !wordGoesOn(s[k], lower)) {
                        bpe.encodeShort(k0, k1, k - i, scratch.bytes, scratch.out, scratch.cache, scratch);
                        e = k;
                    }
                } else if (!other && d < 0x80 && standsAlone(c, d)) {
                    bpe.encodeByte(c, scratch.out);
                    e = i + 1;
                }
            }
            if (e < 0) {
                e = scanner.next(s, i, to);
                if (!encodePiece(s, i, e, false, nz, scratch)) {
                    return false;
                }
            } else if (!logged(s, i, e, false, nz, scratch)) {
                return false;
            }
            i = e;
        }
        return true;
    }

    /**
     * Whether the ASCII char {@code c}, followed by the ASCII char {@code d}, is a piece of its own in the patterns
     * of cl100k's family and o200k, for the commonest cases: a newline before anything but whitespace, a tab before anything but
     * whitespace or a letter, a space before a digit, punctuation before a space (", "). False also when unsure.
     */
    private static boolean standsAlone(char c, char d) {
        boolean space = d == ' ' || d >= '\t' && d <= '\r';
        return switch (c) {
            case '\n', '\t' -> !space;
            case ' ' -> d >= '0' && d <= '9';
            case '\u000B', '\f' -> false;
            default -> d == ' ';
        };
    }

    /** Whether an ASCII word goes on with {@code d}, its letters so far including a lowercase one or not. */
    private boolean wordGoesOn(char d, boolean lower) {
        return isAsciiLetter(d) && !(cased() && lower && d < 'a');
    }

    /** Whether the fused path cuts words o200k's way. */
    private boolean cased() {
        return asciiWords == Scanner.AsciiWords.UPPER_THEN_LOWER;
    }

    private static boolean isAsciiLetter(char c) {
        return (char) ((c | 0x20) - 'a') < 26;
    }

    private boolean encodePiece(char[] s, int start, int end, boolean prefixSpace, TextNormalizer.Normalized nz,
                                Scratch scratch) {
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
                bpe.encodeShort(k0, k1, n, bytes, scratch.out, scratch.cache, scratch);
                return logged(s, start, end, false, nz, scratch);
            }
        }
        int length = Utf8.encode(s, start, end, prefixSpace, bytes);
        bpe.encode(bytes, length, scratch.out, scratch.cache, scratch);
        return logged(s, start, end, prefixSpace, nz, scratch);
    }

    /** Logs the piece when truncating; false once the token limit is reached. */
    private static boolean logged(char[] s, int start, int end, boolean prefixSpace, TextNormalizer.Normalized nz,
                                  Scratch scratch) {
        if (scratch.logging) {
            log(scratch, start, end, prefixSpace, nz);
        }
        return scratch.out.size() < scratch.limit;
    }

    /** Records a piece: tokens so far, its range in the original text, whether offsets inside it are exact. */
    private static void log(Scratch scratch, int start, int end, boolean prefixSpace, TextNormalizer.Normalized nz) {
        IntList log = scratch.log;
        log.add(scratch.out.size());
        log.add(nz == null ? start : nz.toOriginal(start, false));
        log.add(nz == null ? end : nz.toOriginal(end, true));
        log.add((nz == null || nz.isExact(start, end) ? EXACT : 0) | (prefixSpace ? PREFIX_SPACE : 0));
    }

    /**
     * The char offset of the token boundary before token {@code cut}: the end of the text covered by tokens
     * {@code [0, cut)} or, {@code keepRight}, the start of the text covered by tokens {@code [cut, ...)}.
     */
    private int cutOffset(Scratch scratch, int cut, boolean keepRight) {
        IntList log = scratch.log;
        int lo = 0;
        int hi = log.size() / LOG_WIDTH - 1;
        while (lo < hi) { // the first piece whose tokens end after the cut
            int mid = (lo + hi) >>> 1;
            if (log.get(mid * LOG_WIDTH) > cut) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        int piece = lo * LOG_WIDTH;
        int firstToken = lo == 0 ? 0 : log.get(piece - LOG_WIDTH);
        int start = log.get(piece + 1);
        int end = log.get(piece + 2);
        int flags = log.get(piece + 3);
        if (cut == firstToken) {
            return start;
        }
        if ((flags & EXACT) == 0) {
            return keepRight ? end : start;
        }
        int bytes = 0;
        for (int t = firstToken; t < cut; t++) {
            bytes += vocabulary.length(scratch.out.get(t));
        }
        if ((flags & PREFIX_SPACE) != 0) {
            bytes--;
        }
        // walk the piece's chars up to the byte position, a character cut in two counting as not covered
        char[] s = scratch.text;
        int i = start;
        int consumed = 0;
        while (i < end) {
            int width = Utf8.codePointBytes(s, i, end);
            if (keepRight ? consumed >= bytes : consumed + width > bytes) {
                break;
            }
            consumed += width;
            i += CharClass.width(s, i, end);
        }
        return i;
    }

    // ---- fingerprint -------------------------------------------------------------------------------------------

    private String computeFingerprint() {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        update(digest, "llmstream-tokenizer-1;" + (bpe.wholePieceFirst() ? "whole-piece-first;" : "")
                + preTokenizer.describe() + ";" + normalizer.describe());
        vocabulary.digest(digest);
        long[] merges = bpe.mergeRules();
        if (merges != null) {
            ByteBuffer rules = ByteBuffer.allocate(8 * merges.length);
            rules.asLongBuffer().put(merges);
            update(digest, "merges:" + merges.length);
            digest.update(rules.array());
        }
        for (AddedTokens.Token t : added.list()) {
            update(digest, "added:" + t);
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    }

    private static void update(MessageDigest digest, String text) {
        digest.update(text.getBytes(StandardCharsets.UTF_8));
    }
}
