package io.llmstream.deploy.ingest;

import io.llmstream.schemas.Document;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerializer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/** The producer of {@code ingest} and the demo: idempotent, acks=all, large documents allowed. */
public final class DocumentProducer {
    private DocumentProducer() {}

    /** A producer of documents keyed by id, with {@code kafka} (the user's client settings) over our defaults. */
    public static KafkaProducer<String, Document> create(Map<String, Object> kafka, SchemaRegistryClient registry) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 * 1024 * 1024);
        config.putAll(kafka);
        return new KafkaProducer<>(config, new StringSerializer(), new AvroSerializer<>(registry, false));
    }
}
