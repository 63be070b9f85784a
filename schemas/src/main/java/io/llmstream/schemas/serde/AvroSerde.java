package io.llmstream.schemas.serde;

import io.llmstream.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link AvroSerializer} and {@link AvroDeserializer} as one Kafka {@link Serde}, for Kafka Streams and tests.
 * Build one with a client ({@link #specific}, {@link #generic}), or let Kafka build it by class name and
 * {@link #configure} it (generic records, or generated classes with {@link AvroSerdeConfig#SPECIFIC_AVRO_READER}).
 */
public final class AvroSerde<T extends GenericContainer> implements Serde<T> {
    private final AvroSerializer<T> serializer;
    private final AvroDeserializer<T> deserializer;

    /** For Kafka's instantiation by class name; needs {@link #configure}. */
    public AvroSerde() {
        this(new AvroSerializer<>(), new AvroDeserializer<>());
    }

    private AvroSerde(AvroSerializer<T> serializer, AvroDeserializer<T> deserializer) {
        this.serializer = serializer;
        this.deserializer = deserializer;
    }

    /** Serde of a generated class for a topic's keys or values, registering schemas as needed. */
    public static <T extends SpecificRecord> AvroSerde<T> specific(Class<T> type, SchemaRegistryClient client,
            boolean isKey) {
        return new AvroSerde<>(new AvroSerializer<>(client, isKey), AvroDeserializer.specific(type, client));
    }

    /** Serde of generic records for a topic's keys or values, registering schemas as needed. */
    public static AvroSerde<GenericRecord> generic(SchemaRegistryClient client, boolean isKey) {
        return new AvroSerde<>(new AvroSerializer<>(client, isKey), AvroDeserializer.generic(client));
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        serializer.configure(configs, isKey);
        deserializer.configure(configs, isKey);
    }

    @Override
    public void close() {
        serializer.close();
        deserializer.close();
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }
}
