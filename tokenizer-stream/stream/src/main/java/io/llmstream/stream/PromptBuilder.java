package io.llmstream.stream;

import io.llmstream.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Applies a prompt template to a document's text and tokenizes it within a token budget. A prompt that fits is
 * tokenized whole (exactly the ids the tokenizer gives for that string); one that does not keeps the template intact and
 * cuts the document text at a token boundary on the configured side. The tokenizer's own special tokens go around the
 * result, within the budget ({@link Tokenizer#addSpecialTokens}: the {@code <s>} Llama-2 and Mistral models expect, as
 * HuggingFace's tokenizer adds it; nothing for tiktoken's and GPT-2's).
 */
public final class PromptBuilder {
    /** Which side of the text is cut: LEFT drops the beginning (keeps the end, which matters most for summaries). */
    public enum Side { LEFT, RIGHT }

    public static final String TEXT = "{text}";
    public static final String LABELS = "{labels}";
    static final String SUMMARIZE = "Summarize the following text.\n\n{text}\n\nSummary:";
    static final String CLASSIFY = "Classify the following text as one of: {labels}.\n\n{text}\n\nLabel:";

    private final Tokenizer tokenizer;
    private final String prefix;
    private final String suffix;
    private final int maxTokens;
    private final Side side;
    private final int templateTokens;

    /** A built prompt: its ids and whether the text had to be cut. */
    public record Prompt(int[] ids, boolean truncated) {}

    /**
     * @param template {@code summarize}, {@code classify} or a template string containing {@code {text}} (and
     *                 optionally {@code {labels}})
     */
    public PromptBuilder(Tokenizer tokenizer, String template, List<String> labels, int maxTokens, Side side) {
        String resolved = switch (template) {
            case "summarize" -> SUMMARIZE;
            case "classify" -> CLASSIFY;
            default -> template;
        };
        resolved = resolved.replace(LABELS, String.join(", ", labels));
        int at = resolved.indexOf(TEXT);
        if (at < 0) {
            throw new IllegalArgumentException("prompt template must contain " + TEXT + ": '" + template + "'");
        }
        if (resolved.indexOf(TEXT, at + 1) >= 0) {
            throw new IllegalArgumentException("prompt template must contain " + TEXT + " once: '" + template + "'");
        }
        this.tokenizer = tokenizer;
        this.prefix = resolved.substring(0, at);
        this.suffix = resolved.substring(at + TEXT.length());
        this.maxTokens = maxTokens;
        this.side = side;
        this.templateTokens = tokenizer.encode(prefix).length + tokenizer.encode(suffix).length
                + tokenizer.addSpecialTokens(new int[0]).length;
        if (templateTokens >= maxTokens) {
            throw new IllegalArgumentException("prompt template takes " + templateTokens
                    + " tokens, leaving no room for text within max.prompt.tokens=" + maxTokens);
        }
    }

    /** Whether this is the built-in classification template (requests then carry the labels). */
    public static boolean isClassify(String template) {
        return template.equals("classify");
    }

    public Prompt build(String text) {
        int[] whole = tokenizer.addSpecialTokens(tokenizer.encode(prefix + text + suffix));
        if (whole.length <= maxTokens) {
            return new Prompt(whole, false);
        }
        int[] textIds = tokenizer.encode(text);
        int keep = Math.min(textIds.length, maxTokens - templateTokens);
        int[] kept = side == Side.LEFT
                ? Arrays.copyOfRange(textIds, textIds.length - keep, textIds.length)
                : Arrays.copyOf(textIds, keep);
        int[] p = tokenizer.encode(prefix);
        int[] s = tokenizer.encode(suffix);
        int[] ids = new int[p.length + kept.length + s.length];
        System.arraycopy(p, 0, ids, 0, p.length);
        System.arraycopy(kept, 0, ids, p.length, kept.length);
        System.arraycopy(s, 0, ids, p.length + kept.length, s.length);
        return new Prompt(tokenizer.addSpecialTokens(ids), true);
    }
}
