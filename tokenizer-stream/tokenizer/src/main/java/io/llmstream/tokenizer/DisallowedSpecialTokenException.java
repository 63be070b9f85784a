package io.llmstream.tokenizer;

/** The text spells a special token that the {@link SpecialTokens} policy neither allows nor treats as text. */
public final class DisallowedSpecialTokenException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String token;

    DisallowedSpecialTokenException(String token) {
        super("the text contains the special token " + token + ", which the policy does not allow; allow it, or encode"
                + " it as ordinary text with SpecialTokens.none() or allow(...).othersAsText()");
        this.token = token;
    }

    /** The special token found in the text. */
    public String token() {
        return token;
    }
}
