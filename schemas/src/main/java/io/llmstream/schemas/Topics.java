package io.llmstream.schemas;

/** Default topic names (every component lets them be overridden) and the TopicNameStrategy subject names. */
public final class Topics {
    public static final String DOCUMENTS = "documents";
    public static final String TOKENS = "tokens";
    public static final String TRAINING_WINDOWS = "training-windows";
    public static final String INFERENCE_REQUESTS = "inference-requests";
    public static final String INFERENCE_RESULTS = "inference-results";
    public static final String MODELS = "models";
    public static final String DEAD_LETTERS = "dead-letters";

    private Topics() {}

    /** The registry subject of a topic's keys or values: {@code <topic>-key} / {@code <topic>-value}. */
    public static String subject(String topic, boolean isKey) {
        return topic + (isKey ? "-key" : "-value");
    }
}
