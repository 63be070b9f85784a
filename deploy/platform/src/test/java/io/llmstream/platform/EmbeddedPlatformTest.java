package io.llmstream.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.platform.testing.TestClients;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPlatformTest {
    private static final Schema SCHEMA = SchemaBuilder.record("Note").namespace("io.llmstream.test").fields()
            .requiredString("body")
            .endRecord();

    @Test
    void aDataDirectoryKeepsAddressesTopicsAndSchemasAcrossRestarts(@TempDir Path dir) {
        String bootstrap;
        String registryUrl;
        int id;
        try (EmbeddedPlatform platform = EmbeddedPlatform.builder().dataDir(dir).start();
                KafkaProducer<String, String> producer = TestClients.producer(platform.bootstrapServers(), Map.of())) {
            bootstrap = platform.bootstrapServers();
            registryUrl = platform.registryUrl();
            id = client(registryUrl).register("notes-value", SCHEMA);
            platform.kafka().createTopic("notes", 1, Map.of());
            producer.send(new ProducerRecord<>("notes", "n1", "kept"));
            producer.flush();
        }

        try (EmbeddedPlatform platform = EmbeddedPlatform.builder().dataDir(dir).start()) {
            assertThat(platform.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(platform.registryUrl()).isEqualTo(registryUrl);
            assertThat(client(registryUrl).latest("notes-value").id()).isEqualTo(id);
            assertThat(TestClients.readUntil(bootstrap, "read_committed", "notes", v -> true)).containsExactly("kept");
        }
    }

    private static SchemaRegistryClient client(String url) {
        return HttpSchemaRegistryClient.builder(url).maxAttempts(1).build();
    }
}
