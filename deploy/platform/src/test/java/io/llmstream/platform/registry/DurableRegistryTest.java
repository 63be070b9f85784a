package io.llmstream.platform.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.llmstream.platform.EmbeddedKafka;
import io.llmstream.schemas.registry.CompatibilityLevel;
import io.llmstream.schemas.registry.SchemaRegistryException;
import io.llmstream.schemas.registry.SchemaRegistryState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableRegistryTest {
    private static final Schema V1 = SchemaBuilder.record("Event").fields().requiredString("a").endRecord();
    private static final Schema V2 = SchemaBuilder.record("Event").fields()
            .requiredString("a")
            .name("b").type().intType().intDefault(0)
            .endRecord();

    @Test
    void aChangeThatKafkaDidNotStoreIsNeitherAnsweredNorKept(@TempDir Path dir) {
        EmbeddedKafka kafka = EmbeddedKafka.builder().dataDir(dir).start();
        // Short timeouts: the broker is stopped on purpose below.
        try (SchemaTopic topic = new SchemaTopic(kafka.bootstrapServers(), "_schemas", Duration.ofSeconds(3))) {
            DurableRegistry registry = new DurableRegistry(topic);
            int v1 = registry.register("events-value", V1).id();

            kafka.close();
            assertThatThrownBy(() -> registry.register("events-value", V2))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isEqualTo(500));
            assertThatThrownBy(() -> registry.setCompatibility(null, CompatibilityLevel.NONE))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isEqualTo(500));
            assertThatThrownBy(() -> registry.read(SchemaRegistryState::subjects))
                    .as("the unstored registration must not be served while Kafka is away")
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isEqualTo(500));

            kafka = EmbeddedKafka.builder().dataDir(dir).start();
            List<Integer> versions = registry.read(state -> state.versions("events-value"));
            CompatibilityLevel level = registry.read(state -> state.compatibility(null));
            assertThat(versions).containsExactly(1);
            assertThat(level).isEqualTo(CompatibilityLevel.BACKWARD);
            assertThat(registry.register("events-value", V2).version()).isEqualTo(2);
            Schema first = registry.read(state -> state.getById(v1));
            assertThat(first).isEqualTo(V1);
        } finally {
            kafka.close();
        }
    }
}
