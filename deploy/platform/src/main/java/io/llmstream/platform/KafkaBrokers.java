package io.llmstream.platform;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** What the platform needs of its Kafka, one in-process broker ({@link EmbeddedKafka}) or a {@link KafkaCluster}. */
public interface KafkaBrokers extends AutoCloseable {

    /** The addresses for clients' {@code bootstrap.servers}. */
    String bootstrapServers();

    /**
     * Creates a topic at the brokers' default replication factor with the given topic configs, e.g.
     * {@code cleanup.policy=compact}, and returns once its partitions are served (see {@link TopicLayout#createMissing}).
     *
     * @return true if it was created, false if a topic with this name already existed (its settings are left alone)
     */
    default boolean createTopic(String name, int partitions, Map<String, String> configs) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) -1).configs(configs))).all()
                    .get(Duration.ofMinutes(2).toMillis(), TimeUnit.MILLISECONDS);
            TopicLayout.awaitServed(admin, List.of(name));
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return false;
            }
            throw new IllegalStateException("could not create topic '" + name + "': " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out creating topic '" + name + "'", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic '" + name + "'", e);
        }
    }

    @Override
    void close();
}
