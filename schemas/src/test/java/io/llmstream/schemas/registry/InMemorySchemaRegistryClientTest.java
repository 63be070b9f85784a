package io.llmstream.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.llmstream.schemas.Document;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class InMemorySchemaRegistryClientTest {

    @Test
    void clientsOverOneStateSeeEachOthersSchemas() {
        SchemaRegistryState state = new SchemaRegistryState();
        try (SchemaRegistryClient producer = new InMemorySchemaRegistryClient(state);
                SchemaRegistryClient consumer = new InMemorySchemaRegistryClient(state)) {
            int id = producer.register("documents-value", Document.getClassSchema());

            assertThat(producer.register("documents-value", Document.getClassSchema())).isEqualTo(id);
            assertThat(consumer.getById(id)).isEqualTo(Document.getClassSchema());
            assertThat(consumer.lookup("documents-value", Document.getClassSchema()).id()).isEqualTo(id);
            assertThat(consumer.latest("documents-value").version()).isEqualTo(1);
            assertThat(consumer.subjects()).containsExactly("documents-value");
            assertThat(consumer.versions("documents-value")).containsExactly(1);
        }
    }

    @Test
    void compatibilitySettingsApplyToRegistrations() {
        SchemaRegistryClient client = new InMemorySchemaRegistryClient();
        Schema v1 = SchemaBuilder.record("R").fields().requiredInt("a").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredInt("a").requiredInt("b").endRecord();
        client.register("r-value", v1);

        assertThat(client.isCompatible("r-value", v2)).isFalse();
        assertThatThrownBy(() -> client.register("r-value", v2))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isEqualTo(409));

        client.setCompatibility("r-value", CompatibilityLevel.NONE);
        assertThat(client.compatibility("r-value")).isEqualTo(CompatibilityLevel.NONE);
        assertThat(client.compatibility(null)).isEqualTo(CompatibilityLevel.BACKWARD);
        assertThat(client.register("r-value", v2)).isEqualTo(2);
    }
}
