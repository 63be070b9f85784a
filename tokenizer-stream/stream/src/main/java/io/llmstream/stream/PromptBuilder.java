package io.llmstream.stream;

import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Truncation;
import io.llmstream.tokenizer.chat.ChatMessage;
import io.llmstream.tokenizer.chat.ChatTemplate;
import io.llmstream.tokenizer.chat.ChatTemplateException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a document's text into prompt ids within a token budget. The prompt template ({@code {text}} in it) is either
 * the whole prompt, with the tokenizer's own special tokens around it ({@link Tokenizer#addSpecialTokens}: the
 * {@code <s>} Llama-2 and Mistral expect, as HuggingFace's tokenizer adds it), or, in chat mode, the user message of a
 * conversation (an optional system message first) rendered by the model's chat template, which writes its own special
 * tokens, as transformers' {@code apply_chat_template(..., add_generation_prompt=True)} does.
 *
 * <p>The ids are always the tokenizer's ids for the final prompt string, special tokens matched in the template's parts
 * only: a document that contains "&lt;|im_start|&gt;" or "&lt;s&gt;" gets them as plain text, never as control tokens.
 * A document too long for the budget is cut at a token boundary of its own encoding on the configured side, and the
 * prompt with the cut text is encoded again, so the template stays intact and the budget holds.
 *
 * <p>For instruction tuning it also encodes the reply to a prompt ({@link #reply}): the assistant's turn as the chat
 * template renders it after the generation prompt (its end-of-turn tokens included), or in plain mode the reply text
 * and an end id, so a model learns to answer the very prompts it is later served.
 */
public final class PromptBuilder {
    /** Which side of the text is cut: LEFT drops the beginning (keeps the end, which matters most for summaries). */
    public enum Side { LEFT, RIGHT }

    /** Chat mode: the model's chat template and an optional system message (empty: none). */
    public record Chat(ChatTemplate template, String system) {}

    public static final String TEXT = "{text}";
    public static final String LABELS = "{labels}";
    static final String SUMMARIZE = "Summarize the following text.\n\n{text}\n\nSummary:";
    static final String CLASSIFY = "Classify the following text as one of: {labels}.\n\n{text}\n\nLabel:";
    /** Stands for the text while a chat template renders (private-use characters no template touches). */
    private static final String MARK = "\uE000llmstream:text\uE001";
    private static final String REPLY_MARK = "\uE000llmstream:reply\uE001";

    private final Tokenizer tokenizer;
    private final boolean chat;
    private final int maxTokens;
    private final Side side;
    /** The prompt up to its last special token before the text, encoded with special tokens matched. */
    private final int[] head;
    /** The plain text just before and after the document text, encoded together with it. */
    private final String before;
    private final String after;
    /** The rest of the prompt from its first special token after the text. */
    private final int[] tail;
    /** Chat mode: what the template writes before a reply and after it, split as the prompt is around the text. */
    private final int[] replyHead;
    private final String replyBefore;
    private final String replyAfter;
    private final int[] replyTail;
    /** Chat mode: why this template cannot render replies, or null when it can. */
    private final String replyProblem;

    /** A built prompt: its ids and whether the text had to be cut. */
    public record Prompt(int[] ids, boolean truncated) {}

    /**
     * @param template {@code summarize}, {@code classify} or a template string containing {@code {text}} (and
     *                 optionally {@code {labels}})
     * @param chat     chat mode, or null for a plain prompt
     */
    public PromptBuilder(Tokenizer tokenizer, String template, List<String> labels, int maxTokens, Side side, Chat chat) {
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
        this.chat = chat != null;
        this.maxTokens = maxTokens;
        this.side = side;
        String prefix;
        String suffix;
        ReplyParts reply = new ReplyParts("", "", null);
        if (chat == null) {
            prefix = resolved.substring(0, at);
            suffix = resolved.substring(at + TEXT.length());
        } else {
            String rendered = render(chat, resolved.replace(TEXT, MARK));
            int mark = rendered.indexOf(MARK);
            if (mark < 0 || rendered.indexOf(MARK, mark + 1) >= 0) {
                throw new IllegalArgumentException("the chat template " + chat.template().origin()
                        + " does not place the user message's text once, unchanged; it cannot build prompts");
            }
            prefix = rendered.substring(0, mark);
            suffix = rendered.substring(mark + MARK.length());
            reply = replyParts(chat, resolved.replace(TEXT, MARK), rendered);
        }
        int headEnd = this.chat ? lastSpecialEnd(prefix) : 0;
        int tailStart = this.chat ? firstSpecialStart(suffix) : suffix.length();
        this.head = tokenizer.encode(prefix.substring(0, headEnd), SpecialTokens.all());
        this.before = prefix.substring(headEnd);
        this.after = suffix.substring(0, tailStart);
        this.tail = tokenizer.encode(suffix.substring(tailStart), SpecialTokens.all());
        int replyHeadEnd = lastSpecialEnd(reply.before());
        int replyTailStart = firstSpecialStart(reply.end());
        this.replyHead = tokenizer.encode(reply.before().substring(0, replyHeadEnd), SpecialTokens.all());
        this.replyBefore = reply.before().substring(replyHeadEnd);
        this.replyAfter = reply.end().substring(0, replyTailStart);
        this.replyTail = tokenizer.encode(reply.end().substring(replyTailStart), SpecialTokens.all());
        this.replyProblem = reply.problem();
        int templateTokens = build("").ids().length;
        if (templateTokens >= maxTokens) {
            throw new IllegalArgumentException("prompt template takes " + templateTokens
                    + " tokens, leaving no room for text within max.prompt.tokens=" + maxTokens);
        }
    }

    private static String render(Chat chat, String userMessage) {
        return chat.template().render(conversation(chat, userMessage), true);
    }

    private static List<ChatMessage> conversation(Chat chat, String userMessage) {
        List<ChatMessage> messages = new ArrayList<>(3);
        if (!chat.system().isEmpty()) {
            messages.add(ChatMessage.system(chat.system()));
        }
        messages.add(ChatMessage.user(userMessage));
        return messages;
    }

    /** What a template writes around a reply: plain text before it, the rest of its turn; or why it cannot. */
    private record ReplyParts(String before, String end, String problem) {}

    /**
     * The parts around an assistant reply to the prompt the template renders as {@code prompt}; a problem when the
     * conversation with the reply does not begin with that prompt (a template that rewrites earlier turns once a
     * reply follows).
     */
    private static ReplyParts replyParts(Chat chat, String userMessage, String prompt) {
        List<ChatMessage> messages = conversation(chat, userMessage);
        messages.add(new ChatMessage("assistant", REPLY_MARK));
        String cannot = "the chat template " + chat.template().origin() + " does not render an assistant reply after"
                + " its generation prompt; it cannot build instruction windows";
        String rendered;
        try {
            rendered = chat.template().render(messages, false);
        } catch (ChatTemplateException e) {
            return new ReplyParts("", "", cannot + " (" + e.getMessage() + ")");
        }
        int mark = rendered.indexOf(REPLY_MARK);
        if (!rendered.startsWith(prompt) || mark < prompt.length() || rendered.indexOf(REPLY_MARK, mark + 1) >= 0) {
            return new ReplyParts("", "", cannot);
        }
        return new ReplyParts(rendered.substring(prompt.length(), mark),
                rendered.substring(mark + REPLY_MARK.length()), null);
    }

    /** Whether this is the built-in classification template (requests then carry the labels). */
    public static boolean isClassify(String template) {
        return template.equals("classify");
    }

    public Prompt build(String text) {
        int[] whole = ids(text);
        if (whole.length <= maxTokens) {
            return new Prompt(whole, false);
        }
        // cut the text to what the budget leaves, then shave more while the re-encoded prompt is still too long
        int keep = Math.max(0, tokenizer.countTokens(text) - (whole.length - maxTokens));
        while (true) {
            Truncation t = side == Side.LEFT ? tokenizer.truncateLeft(text, keep) : tokenizer.truncate(text, keep);
            String kept = side == Side.LEFT ? text.substring(t.charOffset()) : text.substring(0, t.charOffset());
            int[] ids = ids(kept);
            if (ids.length <= maxTokens || keep == 0) {
                return new Prompt(ids, true);
            }
            keep = Math.max(0, keep - (ids.length - maxTokens));
        }
    }

    /**
     * The ids of {@code response} as the reply to a prompt of this builder: in chat mode the assistant turn as the chat
     * template writes it (its end-of-turn tokens too), else the response and {@code endId}. The response is plain text:
     * special tokens in it are not matched.
     *
     * @throws IllegalStateException if the chat template cannot render a reply (see {@link #checkReplies})
     */
    public int[] reply(String response, int endId) {
        checkReplies();
        int[] middle = tokenizer.encode(replyBefore + response + replyAfter, SpecialTokens.none());
        return chat ? concat(replyHead, middle, replyTail) : concat(new int[0], middle, new int[] {endId});
    }

    /** Refuses, with the reason, a chat template that cannot render replies. */
    public void checkReplies() {
        if (replyProblem != null) {
            throw new IllegalStateException(replyProblem);
        }
    }

    /** The prompt's ids with {@code text} in it: the text and the plain template text around it encoded as one. */
    private int[] ids(String text) {
        int[] ids = concat(head, tokenizer.encode(before + text + after, SpecialTokens.none()), tail);
        return chat ? ids : tokenizer.addSpecialTokens(ids);
    }

    private static int[] concat(int[] head, int[] middle, int[] tail) {
        int[] ids = Arrays.copyOf(head, head.length + middle.length + tail.length);
        System.arraycopy(middle, 0, ids, head.length, middle.length);
        System.arraycopy(tail, 0, ids, head.length + middle.length, tail.length);
        return ids;
    }

    /** Where the last special token in {@code s} ends (0 for none). */
    private int lastSpecialEnd(String s) {
        int end = 0;
        for (String token : tokenizer.specialTokens().keySet()) {
            int i = s.lastIndexOf(token);
            if (i >= 0) {
                end = Math.max(end, i + token.length());
            }
        }
        return end;
    }

    /** Where the first special token in {@code s} starts ({@code s.length()} for none). */
    private int firstSpecialStart(String s) {
        int start = s.length();
        for (String token : tokenizer.specialTokens().keySet()) {
            int i = s.indexOf(token);
            if (i >= 0) {
                start = Math.min(start, i);
            }
        }
        return start;
    }
}
