package io.llmstream.cli.demo;

import io.llmstream.ops.ComponentArgs;
import io.llmstream.schemas.InferenceResult;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads whole topics as a read_committed consumer without a group: what the pipeline really committed. */
final class TopicReader implements AutoCloseable {
    private final String bootstrap;
    private final SchemaRegistryClient registry;

    TopicReader(String bootstrap, String registryUrl) {
        this.bootstrap = bootstrap;
        this.registry = HttpSchemaRegistryClient.fromConfig(Map.of(ComponentArgs.REGISTRY_KEY, registryUrl));
    }

    /** Committed records in the topic now. */
    long count(String topic) {
        long[] n = {0};
        try (KafkaConsumer<String, byte[]> consumer = consumer(new ByteArrayDeserializer())) {
            readToEnd(consumer, topic, r -> n[0]++);
        }
        return n[0];
    }

    /** Every committed record of the topic now, decoded as {@code type}. */
    <T extends SpecificRecord> void forEach(String topic, Class<T> type, Consumer<T> action) {
        try (KafkaConsumer<String, T> consumer = consumer(AvroDeserializer.specific(type, registry))) {
            readToEnd(consumer, topic, r -> action.accept(r.value()));
        }
    }

    /**
     * Reads results until {@code expected} distinct requests have one, or until none arrived for {@code stall}.
     * Returns one result per request id (the first seen; the worker writes exactly one).
     */
    List<InferenceResult> awaitResults(String topic, long expected, Duration stall) {
        Map<String, InferenceResult> results = new LinkedHashMap<>();
        try (KafkaConsumer<String, InferenceResult> consumer = consumer(AvroDeserializer.specific(InferenceResult.class, registry))) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long lastProgress = System.nanoTime();
            while (results.size() < expected && System.nanoTime() - lastProgress < stall.toNanos()) {
                for (ConsumerRecord<String, InferenceResult> r : consumer.poll(Duration.ofMillis(200))) {
                    results.putIfAbsent(r.value().getRequestId(), r.value());
                    lastProgress = System.nanoTime();
                }
            }
        }
        return new ArrayList<>(results.values());
    }

    private <V> void readToEnd(KafkaConsumer<String, V> consumer, String topic, Consumer<ConsumerRecord<String, V>> action) {
        List<TopicPartition> partitions = partitions(consumer, topic);
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
            consumer.poll(Duration.ofMillis(200)).forEach(action);
        }
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        return consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    private <V> KafkaConsumer<String, V> consumer(org.apache.kafka.common.serialization.Deserializer<V> values) {
        Map<String, Object> config = Map.of(
                "bootstrap.servers", bootstrap,
                "isolation.level", "read_committed",
                "enable.auto.commit", false,
                "max.partition.fetch.bytes", 32 * 1024 * 1024);
        return new KafkaConsumer<>(config, new StringDeserializer(), values);
    }

    @Override
    public void close() {
        registry.close();
    }
}
