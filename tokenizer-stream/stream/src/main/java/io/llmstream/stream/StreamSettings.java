package io.llmstream.stream;

import io.llmstream.ops.Settings;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The stream application's settings, read once from {@link Settings} (defaults in {@code tokenizer-stream.properties}).
 * Every value is checked here, at start, with an error naming the key.
 */
public record StreamSettings(
        String tokenizer,
        String documentsTopic,
        String tokensTopic,
        String windowsTopic,
        String requestsTopic,
        String deadLettersTopic,
        int maxDocumentBytes,
        EmptyText emptyText,
        Windows windows,
        Requests requests,
        int opsPort,
        Map<String, Object> kafka) {

    /** What happens to a document whose text is empty. */
    public enum EmptyText { SKIP, DEAD_LETTER }

    /** How training windows are cut: per document, or documents packed together with the separator between them. */
    public enum WindowMode { PER_DOCUMENT, PACKED }

    /**
     * {@code responseAttribute}: the document attribute holding the response of an instruction example (its text is
     * then the prompt); {@code labelAttribute}: the one holding a classification example's label; empty for none.
     */
    public record Windows(boolean enabled, int length, int stride, WindowMode mode, WindowSlicer.Tail tail,
                          double validationFraction, String separatorToken, String responseAttribute,
                          String labelAttribute) {

        /** Whether a document is a fine-tuning example (instruction or labelled): one window of its own. */
        public boolean isExample(Map<String, String> attributes) {
            return !responseAttribute.isEmpty() && attributes.containsKey(responseAttribute)
                    || !labelAttribute.isEmpty() && attributes.containsKey(labelAttribute);
        }

        public boolean hasExamples() {
            return !responseAttribute.isEmpty() || !labelAttribute.isEmpty();
        }
    }

    /**
     * {@code classify}: whether requests are CLASSIFY (with {@code labels}) rather than GENERATE; {@code chatTemplate}:
     * a model directory or .jinja file for chat mode, empty for plain prompts.
     */
    public record Requests(boolean enabled, String template, boolean classify, List<String> labels, String chatTemplate,
                           String chatSystem, int maxPromptTokens, PromptBuilder.Side truncateSide, int maxNewTokens,
                           float temperature, int topK, float topP, List<Integer> stopIds) {}

    public static final String DEFAULTS_RESOURCE = "/tokenizer-stream.properties";

    public static Map<String, String> defaults() {
        return Settings.resourceDefaults(StreamSettings.class, DEFAULTS_RESOURCE);
    }

    public static StreamSettings from(Settings s) {
        int length = s.integer("windows.length");
        Windows windows = new Windows(
                s.bool("windows.enabled"),
                length,
                s.has("windows.stride") ? s.integer("windows.stride") : length,
                s.enumValue("windows.mode", WindowMode.class),
                s.enumValue("windows.tail", WindowSlicer.Tail.class),
                s.decimal("windows.validation.fraction"),
                s.string("windows.separator"),
                s.string("windows.response.attribute", ""),
                s.string("windows.label.attribute", ""));
        String template = s.string("requests.template");
        String task = s.string("requests.task", "").trim().toLowerCase(Locale.ROOT);
        if (!task.isEmpty() && !task.equals("generate") && !task.equals("classify")) {
            throw new IllegalArgumentException("setting 'requests.task' must be generate or classify (or empty), got '"
                    + task + "'");
        }
        Requests requests = new Requests(
                s.bool("requests.enabled"),
                template,
                task.isEmpty() ? PromptBuilder.isClassify(template) : task.equals("classify"),
                s.list("requests.labels"),
                s.string("requests.chat.template", ""),
                s.string("requests.chat.system", ""),
                s.integer("requests.max.prompt.tokens"),
                s.enumValue("requests.truncate", PromptBuilder.Side.class),
                s.integer("requests.max.new.tokens"),
                (float) s.decimal("requests.temperature"),
                s.integer("requests.top.k"),
                (float) s.decimal("requests.top.p"),
                s.list("requests.stop.ids").stream().map(id -> parseId("requests.stop.ids", id)).toList());
        return new StreamSettings(
                s.string("tokenizer"),
                s.string("topic.documents"),
                s.string("topic.tokens"),
                s.string("topic.windows"),
                s.string("topic.requests"),
                s.string("topic.dead-letters"),
                s.integer("max.document.bytes"),
                s.enumValue("empty.text", EmptyText.class),
                windows,
                requests,
                s.integer("ops.port"),
                s.kafka());
    }

    private static int parseId(String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting '" + key + "' must list token ids, got '" + value + "'");
        }
    }
}
