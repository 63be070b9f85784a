package io.llmstream.stream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.llmstream.schemas.Document;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class DocumentProducerTest {
    private static final List<Document> DOCS = IntStream.range(0, 5)
            .mapToObj(i -> new Document("doc-" + i, "text " + i, null, Map.of(), null)).toList();

    @Test
    void sendAllWritesEveryDocumentKeyedById() {
        MockProducer<String, Document> producer = producer();

        DocumentProducer.sendAll(producer, "documents", DOCS);

        assertThat(producer.history()).extracting(ProducerRecord::key).containsExactly(
                "doc-0", "doc-1", "doc-2", "doc-3", "doc-4");
        assertThat(producer.history()).extracting(ProducerRecord::topic).containsOnly("documents");
    }

    @Test
    void aDocumentTheBrokerRefusedFailsTheCallNamingTopicAndCause() {
        // A send acknowledged with an error (as the broker does with OUT_OF_ORDER_SEQUENCE) must not pass silently.
        MockProducer<String, Document> producer = new MockProducer<>(true, null, new StringSerializer(), DocumentProducerTest::idBytes) {
            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<String, Document> record, Callback callback) {
                if (record.key().equals("doc-2")) {
                    callback.onCompletion(null, new OutOfOrderSequenceException("out of order sequence"));
                    return null;
                }
                return super.send(record, callback);
            }
        };

        assertThatThrownBy(() -> DocumentProducer.sendAll(producer, "documents", DOCS))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'documents'")
                .hasMessageContaining("out of order sequence")
                .hasCauseInstanceOf(OutOfOrderSequenceException.class);
    }

    private static MockProducer<String, Document> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), DocumentProducerTest::idBytes);
    }

    private static byte[] idBytes(String topic, Document doc) {
        return doc.getId().getBytes(StandardCharsets.UTF_8);
    }
}
