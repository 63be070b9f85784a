package io.llmstream.deploy.demo;

import io.llmstream.schemas.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

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

    /** Creates the topics that do not exist yet: data topics with {@code partitions}, models compacted. */
    void create(Admin admin, int partitions) throws InterruptedException {
        Map<String, String> large = Map.of("max.message.bytes", Integer.toString(32 * 1024 * 1024));
        List<NewTopic> topics = new ArrayList<>();
        for (String topic : dataTopics()) {
            topics.add(new NewTopic(topic, partitions, (short) -1).configs(large));
        }
        topics.add(new NewTopic(models, 1, (short) -1).configs(Map.of("cleanup.policy", "compact")));
        for (var created : admin.createTopics(topics).values().entrySet()) {
            try {
                created.getValue().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic '" + created.getKey() + "': " + e.getCause().getMessage(), e.getCause());
                }
            }
        }
    }
}
