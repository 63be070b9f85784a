package io.llmstream.cli.demo;

import io.llmstream.platform.TopicLayout;
import io.llmstream.schemas.Topics;
import java.util.List;

/**
 * The topics one demo run uses. On its own embedded platform they are llmstream's default names; on a cluster given
 * with --bootstrap they carry a per-run prefix, so a run never reads an earlier run's records.
 */
public record DemoTopics(String documents, String heldOut, String tokens, String windows, String requests,
                         String results, String deadLetters, String models) {

    /** Held-out prompt documents: a topic of their own, tokenized into requests rather than windows. */
    static final String HELD_OUT = "held-out-documents";

    static DemoTopics withPrefix(String prefix) {
        return new DemoTopics(prefix + Topics.DOCUMENTS, prefix + HELD_OUT, prefix + Topics.TOKENS,
                prefix + Topics.TRAINING_WINDOWS, prefix + Topics.INFERENCE_REQUESTS, prefix + Topics.INFERENCE_RESULTS,
                prefix + Topics.DEAD_LETTERS, prefix + Topics.MODELS);
    }

    /** Every topic but {@link #models}, which is compacted. */
    List<String> dataTopics() {
        return List.of(documents, heldOut, tokens, windows, requests, results, deadLetters);
    }

    /** How they are created: as llmstream's own topics, the held-out documents being a data topic. */
    TopicLayout layout() {
        return new TopicLayout(dataTopics(), models);
    }
}
