package io.llmstream.stream.ingest;

import io.llmstream.schemas.Document;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerializer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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

    /**
     * Sends every document to {@code topic}, keyed by id, and returns once all are acknowledged; throws, naming the
     * topic and the first failure, if any was not written. For callers that cannot go on without all of them (the
     * demo, the benchmark), where a lost document would otherwise be waited for forever.
     */
    public static void sendAll(Producer<String, Document> producer, String topic, List<Document> docs) {
        AtomicReference<Exception> failure = new AtomicReference<>();
        for (Document doc : docs) {
            if (failure.get() != null) {
                break;
            }
            producer.send(new ProducerRecord<>(topic, doc.getId(), doc), (metadata, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        producer.flush();
        if (failure.get() != null) {
            throw new IllegalStateException("Documents to '" + topic + "' were not all written: "
                    + failure.get().getMessage(), failure.get());
        }
    }
}
