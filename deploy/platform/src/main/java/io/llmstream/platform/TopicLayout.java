package io.llmstream.platform;

import io.llmstream.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A set of llmstream topics and how they are created: the data topics with room for records of up to 32 MiB (the token
 * ids of large documents), {@code models} compacted with one partition. The replication factor is the broker's default.
 *
 * @param dataTopics documents, tokens, windows, requests, results, dead letters (and any others of the same kind)
 * @param models     the compacted topic of published model versions
 */
public record TopicLayout(List<String> dataTopics, String models) {
    /** llmstream's default topic names. */
    public static final TopicLayout DEFAULT = new TopicLayout(List.of(Topics.DOCUMENTS, Topics.TOKENS,
            Topics.TRAINING_WINDOWS, Topics.INFERENCE_REQUESTS, Topics.INFERENCE_RESULTS, Topics.DEAD_LETTERS), Topics.MODELS);

    /** How long {@link #createMissing} waits for new topics to be served. */
    static final Duration SERVED_TIMEOUT = Duration.ofSeconds(30);

    public TopicLayout {
        dataTopics = List.copyOf(dataTopics);
    }

    /** Creates the topics that do not exist yet; existing ones are left as they are. */
    public void create(Admin admin, int partitions) throws InterruptedException {
        Map<String, String> large = Map.of("max.message.bytes", Integer.toString(32 * 1024 * 1024));
        List<NewTopic> topics = new ArrayList<>();
        for (String topic : dataTopics) {
            topics.add(new NewTopic(topic, partitions, (short) -1).configs(large));
        }
        topics.add(new NewTopic(models, 1, (short) -1).configs(Map.of("cleanup.policy", "compact")));
        createMissing(admin, topics);
    }

    /**
     * Creates the topics that do not exist yet and returns once every partition of them is served by its leader; one
     * that exists already is left as it is, any other failure throws.
     */
    public static void createMissing(Admin admin, List<NewTopic> topics) throws InterruptedException {
        for (var created : admin.createTopics(topics).values().entrySet()) {
            try {
                created.getValue().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic '" + created.getKey() + "': "
                            + e.getCause().getMessage(), e.getCause());
                }
            }
        }
        awaitServed(admin, topics.stream().map(NewTopic::name).toList());
    }

    /**
     * Waits until the leader of every partition answers for it. A new partition is listed in metadata a moment before
     * its leader has opened it; an idempotent producer whose first batch lands in that moment gets NOT_LEADER_OR_FOLLOWER,
     * its next batch succeeds, and the retried first batch then fails as out of order: its records are lost. The leader
     * answers ListOffsets only once the partition is open. Until then, and while a broker's metadata does not list the
     * new topic at all, the answers are retriable errors, which are retried here for up to {@link #SERVED_TIMEOUT}.
     */
    static void awaitServed(Admin admin, List<String> topics) throws InterruptedException {
        long deadline = System.nanoTime() + SERVED_TIMEOUT.toNanos();
        while (true) {
            try {
                endOffsets(admin, topics);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                    throw new IllegalStateException("topics " + topics + " are not served after "
                            + SERVED_TIMEOUT.toSeconds() + " s: " + e.getCause().getMessage(), e.getCause());
                }
                Thread.sleep(20);
            }
        }
    }

    /** The end offset of every partition of {@code topics}, as each partition's leader reports it. */
    public static Map<TopicPartition, Long> endOffsets(Admin admin, Collection<String> topics)
            throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
        for (TopicDescription topic : admin.describeTopics(topics).allTopicNames().get().values()) {
            for (TopicPartitionInfo partition : topic.partitions()) {
                partitions.put(new TopicPartition(topic.name(), partition.partition()), OffsetSpec.latest());
            }
        }
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(partitions).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }
}
