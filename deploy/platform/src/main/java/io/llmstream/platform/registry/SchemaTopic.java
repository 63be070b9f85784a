package io.llmstream.platform.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.llmstream.schemas.registry.CompatibilityLevel;
import io.llmstream.schemas.registry.RegisteredSchema;
import io.llmstream.schemas.registry.SchemaRegistryState;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's durable log: a compacted, single-partition Kafka topic holding every registration and compatibility
 * setting as JSON. Keys identify what a record describes ({@code {"type":"SCHEMA","subject":..,"version":..}} or
 * {@code {"type":"CONFIG","subject":..|null}}), so compaction keeps every schema version and the last level per subject.
 * A soft delete writes the registration again with {@code "deleted":true}; a permanent delete, its tombstone.
 *
 * <p>Writes wait for the broker's acknowledgement from all in-sync replicas. One registry writes to a topic at a time.
 * Thread-safe.
 */
final class SchemaTopic implements AutoCloseable {
    static final String DEFAULT_NAME = "_schemas";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(SchemaTopic.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String bootstrapServers;
    private final Duration timeout;
    private final TopicPartition partition;
    private final KafkaProducer<String, String> producer;

    /** Creates the topic if missing; {@code timeout} bounds each write, read and admin call. */
    SchemaTopic(String bootstrapServers, String name, Duration timeout) {
        this.bootstrapServers = bootstrapServers;
        this.timeout = timeout;
        this.partition = new TopicPartition(name, 0);
        createIfMissing();
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis(),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis() / 2),
                new StringSerializer(), new StringSerializer());
    }

    /** Writes one registration and waits for the acknowledgement. */
    void append(RegisteredSchema registered) {
        send(schemaKey(registered), schemaValue(registered, false));
    }

    /** Writes a registration again, marked soft-deleted (compaction keeps the mark), and waits. */
    void appendDeleted(RegisteredSchema registered) {
        send(schemaKey(registered), schemaValue(registered, true));
    }

    /** Writes the tombstone of a permanently deleted registration and waits. */
    void appendForgotten(RegisteredSchema registered) {
        send(schemaKey(registered), null);
    }

    private static ObjectNode schemaKey(RegisteredSchema registered) {
        return JSON.createObjectNode()
                .put("type", "SCHEMA")
                .put("subject", registered.subject())
                .put("version", registered.version());
    }

    private static ObjectNode schemaValue(RegisteredSchema registered, boolean deleted) {
        ObjectNode value = JSON.createObjectNode()
                .put("subject", registered.subject())
                .put("version", registered.version())
                .put("id", registered.id())
                .put("schema", registered.schema().toString());
        return deleted ? value.put("deleted", true) : value;
    }

    /** Writes one compatibility level ({@code subject} null for the global one) and waits for the acknowledgement. */
    void appendCompatibility(String subject, CompatibilityLevel level) {
        ObjectNode key = JSON.createObjectNode().put("type", "CONFIG").put("subject", subject);
        ObjectNode value = JSON.createObjectNode().put("compatibilityLevel", level.name());
        send(key, value);
    }

    /** Reads the topic from its beginning to its current end into a fresh state. */
    SchemaRegistryState load() {
        SchemaRegistryState state = new SchemaRegistryState();
        // Reading up to a known end offset: a fetch parked at the broker waiting for more data would only delay close.
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition), timeout).get(partition);
            long deadline = System.nanoTime() + timeout.toNanos();
            int records = 0;
            while (consumer.position(partition, timeout) < end) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out reading " + partition + " up to offset " + end);
                }
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    apply(record, state);
                    records++;
                }
            }
            log.info("Restored schema registry from {} records of {}", records, partition.topic());
        }
        return state;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }

    private void send(ObjectNode key, ObjectNode value) {
        ProducerRecord<String, String> record = new ProducerRecord<>(partition.topic(), partition.partition(),
                key.toString(), value == null ? null : value.toString());
        try {
            producer.send(record).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not write " + key + " to " + partition.topic() + ": " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing " + key + " to " + partition.topic(), e);
        }
    }

    private static void apply(ConsumerRecord<String, String> record, SchemaRegistryState state) {
        try {
            JsonNode key = JSON.readTree(record.key());
            String subject = key.path("subject").isNull() ? null : key.path("subject").asText();
            if (record.value() == null) {
                if (key.path("type").asText().equals("SCHEMA")) {
                    state.restoreForgotten(subject, key.path("version").asInt()); // a permanent delete
                }
                return;
            }
            JsonNode value = JSON.readTree(record.value());
            switch (key.path("type").asText()) {
                case "SCHEMA" -> {
                    int version = value.path("version").asInt();
                    state.restore(new RegisteredSchema(subject, version, value.path("id").asInt(),
                            new Schema.Parser().parse(value.path("schema").asText())));
                    if (value.path("deleted").asBoolean(false)) {
                        state.restoreDeleted(subject, version);
                    }
                }
                case "CONFIG" -> state.restoreCompatibility(subject,
                        CompatibilityLevel.parse(value.path("compatibilityLevel").asText()));
                default -> log.warn("Skipping record of unknown type at {}-{}@{}: {}",
                        record.topic(), record.partition(), record.offset(), record.key());
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("bad schema-registry record at " + record.topic() + "-" + record.partition()
                    + "@" + record.offset() + ": " + e.getMessage(), e);
        }
    }

    // Compacted, one partition (a total order of registrations), as many replicas as the cluster allows up to three.
    private void createIfMissing() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            int brokers = admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).size();
            NewTopic topic = new NewTopic(partition.topic(), 1, (short) Math.max(1, Math.min(3, brokers)))
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
            admin.createTopics(List.of(topic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            log.info("Created schema topic {}", partition.topic());
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("could not create " + partition.topic() + ": " + e.getCause(), e);
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out creating " + partition.topic() + " on " + bootstrapServers, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating " + partition.topic(), e);
        }
    }
}
