package io.llmstream.tokenizer;

import java.util.Collection;
import java.util.Set;

/**
 * What {@link Tokenizer#encode(String, SpecialTokens)} does with text that spells a special token (e.g.
 * {@code <|endoftext|>}), with tiktoken's semantics: an allowed special token becomes its id; a special token that is
 * not allowed is either an error ({@link DisallowedSpecialTokenException}, tiktoken's default) or plain text.
 * Non-special added tokens of a tokenizer.json always match, as in HuggingFace.
 */
public final class SpecialTokens {
    private static final SpecialTokens NONE = new SpecialTokens(Set.of(), false);
    private static final SpecialTokens ALL = new SpecialTokens(null, false);
    private static final SpecialTokens DISALLOW_ALL = new SpecialTokens(Set.of(), true);

    /** The allowed tokens; null means all. */
    private final Set<String> allowed;
    private final boolean rejectOthers;

    private SpecialTokens(Set<String> allowed, boolean rejectOthers) {
        this.allowed = allowed;
        this.rejectOthers = rejectOthers;
    }

    /** Special-token text is ordinary text (tiktoken's {@code encode_ordinary}); the default of {@code encode(text)}. */
    public static SpecialTokens none() {
        return NONE;
    }

    /** Every special token is recognised (HuggingFace's default). */
    public static SpecialTokens all() {
        return ALL;
    }

    /** Any special-token text is an error (tiktoken's {@code encode} with no allowed set). */
    public static SpecialTokens disallowAll() {
        return DISALLOW_ALL;
    }

    /** These special tokens are recognised; the text of any other is an error (see {@link #othersAsText()}). */
    public static SpecialTokens allow(String... tokens) {
        return new SpecialTokens(Set.of(tokens), true);
    }

    /** These special tokens are recognised; the text of any other is an error (see {@link #othersAsText()}). */
    public static SpecialTokens allow(Collection<String> tokens) {
        return new SpecialTokens(Set.copyOf(tokens), true);
    }

    /** The same allowed tokens, but the text of the other special tokens is encoded as ordinary text. */
    public SpecialTokens othersAsText() {
        return rejectOthers ? new SpecialTokens(allowed, false) : this;
    }

    boolean allows(String token) {
        return allowed == null || allowed.contains(token);
    }

    boolean rejects(String token) {
        return rejectOthers && !allows(token);
    }

    @Override
    public String toString() {
        String tokens = allowed == null ? "all" : allowed.isEmpty() ? "none" : allowed.toString();
        return "SpecialTokens[allowed=" + tokens + (rejectOthers ? ", others rejected]" : ", others as text]");
    }
}
