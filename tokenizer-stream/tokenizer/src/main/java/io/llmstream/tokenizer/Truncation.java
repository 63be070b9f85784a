package io.llmstream.tokenizer;

/**
 * The result of cutting a text to a token budget: {@code ids} are exactly the first (or, for
 * {@link Tokenizer#truncateLeft}, the last) tokens of the text's full encoding, and {@code charOffset} is where the text
 * was cut: {@code text.substring(0, charOffset)} (or {@code text.substring(charOffset)}) is the text those tokens cover
 * completely. When a token boundary falls inside a character (byte-level BPE can split a UTF-8 sequence), that
 * character is left out of the covered text.
 *
 * @param ids        the kept token ids
 * @param charOffset the cut position in the text ({@code text.length()}, resp. 0, when nothing was cut)
 * @param truncated  whether any token was dropped
 */
public record Truncation(int[] ids, int charOffset, boolean truncated) {
}
