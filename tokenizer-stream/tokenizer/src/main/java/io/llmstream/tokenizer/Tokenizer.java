package io.llmstream.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A BPE tokenizer: tiktoken's encodings (r50k_base, p50k_base, cl100k_base, o200k_base or any .tiktoken rank file),
 * HuggingFace tokenizer.json files of the byte-level BPE family, and the SentencePiece-style ones of Llama-2 and
 * Mistral (byte fallback); see {@link Tokenizers} to load one.
 *
 * <p>Encoding runs: added/special tokens are cut out first, then (tokenizer.json) the text is normalized, cut into
 * pieces by the pre-tokenizer, and each piece's UTF-8 bytes are merged by BPE (SentencePiece-style: the text between
 * added tokens is one piece, merged from its characters; decoding drops the space its leading "▁" stands for). Lone UTF-16 surrogates are encoded as
 * U+FFFD, as tiktoken does. Instances are immutable and thread-safe; encoding uses per-thread scratch memory and
 * allocates only its result. Each thread also keeps, per tokenizer it uses, a cache of recent pieces' encodings
 * (about 1.1 MiB), which is what makes repetitive text cheap.
 */
public final class Tokenizer {
    private final String name;
    private final BytePairEncoder bpe;
    private final Vocabulary vocabulary;
    private final PreTokenizer preTokenizer;
    private final TextNormalizer normalizer;
    private final AddedTokens added;
    private final SentencePiece sentencePiece;
    private final SpecialTokenTemplate template;
    private final Encoder encoder;
    private final Map<String, Integer> specialTokens;
    /** Computed on first use (hashing megabytes is a visible part of a cold start). */
    private volatile String fingerprint;

    Tokenizer(String name, BytePairEncoder bpe, PreTokenizer preTokenizer, TextNormalizer normalizer,
              AddedTokens added) {
        this(name, bpe, preTokenizer, normalizer, added, null, SpecialTokenTemplate.NONE);
    }

    /**
     * A SentencePiece-style tokenizer when {@code sentencePiece} is not null (see {@link SentencePiece}); {@code template}
     * is what {@link #addSpecialTokens} puts around a text's ids.
     */
    Tokenizer(String name, BytePairEncoder bpe, PreTokenizer preTokenizer, TextNormalizer normalizer,
              AddedTokens added, SentencePiece sentencePiece, SpecialTokenTemplate template) {
        this.name = Objects.requireNonNull(name);
        this.bpe = bpe;
        this.vocabulary = bpe.vocabulary();
        this.preTokenizer = preTokenizer;
        this.normalizer = normalizer;
        this.added = added;
        this.sentencePiece = sentencePiece;
        this.template = Objects.requireNonNull(template);
        this.encoder = new Encoder(bpe, preTokenizer, normalizer, added, sentencePiece);
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
            return encoder.encode(text, policy, scratch, Integer.MAX_VALUE, false).out.toArray();
        } finally {
            scratch.release();
        }
    }

    /**
     * {@code ids} with the special tokens the tokenizer.json's post-processor puts around one text (HuggingFace's
     * {@code add_special_tokens}): {@code <s>} before it for Llama-2 and Mistral, {@code <|begin_of_text|>} for
     * Llama-3; the ids themselves for tokenizers that add none (tiktoken's, GPT-2's).
     */
    public int[] addSpecialTokens(int[] ids) {
        return template.apply(ids);
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
            return Math.min(encoder.encode(text, SpecialTokens.none(), scratch, stop, false).out.size(), stop);
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
            Encoder.Call call = encoder.encode(text, policy, scratch,
                    maxTokens == Integer.MAX_VALUE ? maxTokens : maxTokens + 1, true);
            IntList out = call.out;
            if (out.size() <= maxTokens) {
                return new Truncation(out.toArray(), text.length(), false);
            }
            return new Truncation(out.toArray(0, maxTokens), encoder.cutOffset(call, maxTokens, false), true);
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
            Encoder.Call call = encoder.encode(text, policy, scratch, Integer.MAX_VALUE, true);
            IntList out = call.out;
            int total = out.size();
            if (total <= maxTokens) {
                return new Truncation(out.toArray(), 0, false);
            }
            int cut = total - maxTokens;
            return new Truncation(out.toArray(cut, total), encoder.cutOffset(call, cut, true), true);
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
        if (sentencePiece != null && sentencePiece.stripsDecodedSpace() && length > 0 && bytes[0] == ' ') {
            return Arrays.copyOfRange(bytes, 1, length); // the "▁" encoding put before the text
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
        if (sentencePiece != null) {
            throw new UnsupportedOperationException(name + ": a SentencePiece-style tokenizer ships the file it was "
                    + "loaded from");
        }
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

    // ---- fingerprint -------------------------------------------------------------------------------------------

    private String computeFingerprint() {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        update(digest, "llmstream-tokenizer-1;" + (bpe.wholePieceFirst() ? "whole-piece-first;" : "")
                + (sentencePiece != null ? "sentencepiece;" + sentencePiece.describe() : "")
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
        if (!template.isEmpty()) { // so the fingerprints of tokenizers without one stay as they were
            update(digest, template.toString());
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    }

    private static void update(MessageDigest digest, String text) {
        digest.update(text.getBytes(StandardCharsets.UTF_8));
    }
}
