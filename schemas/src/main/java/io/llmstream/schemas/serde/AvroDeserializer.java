package io.llmstream.schemas.serde;

import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DatumReader;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads the Confluent wire format written by {@link AvroSerializer}. The writer schema comes from the registry by the
 * id in the payload; records decode into
 * <ul>
 *   <li>a given generated class, resolving the writer schema against the class's schema, so data written with an
 *       older (or newer) compatible schema fills in defaults ({@link #specific});</li>
 *   <li>{@link GenericRecord}s of the writer schema ({@link #generic});</li>
 *   <li>when built by class name with {@link AvroSerdeConfig#SPECIFIC_AVRO_READER}, the generated class named by the
 *       writer schema.</li>
 * </ul>
 *
 * <p>Bad bytes raise {@link SerializationException} naming the topic and the reason (too short, wrong magic byte,
 * unknown schema id, truncated, trailing bytes, corrupt lengths); decoding never allocates more than the payload can
 * hold. A registry that cannot be reached raises {@link SchemaRegistryException} instead: the record is not at fault.
 * A null payload (tombstone) reads as null. Thread-safe once configured.
 */
public final class AvroDeserializer<T> implements Deserializer<T> {
    private static final int HEADER_BYTES = 5;

    private final Class<T> type;
    private final Map<Integer, DatumReader<T>> readersById = new ConcurrentHashMap<>();
    private volatile SchemaRegistryClient client;
    private volatile boolean ownsClient;
    private volatile boolean specificByName;

    /** For Kafka's instantiation by class name: {@link #configure} then supplies the registry and the reader mode. */
    public AvroDeserializer() {
        this(null, null);
    }

    private AvroDeserializer(Class<T> type, SchemaRegistryClient client) {
        this.type = type;
        this.client = client;
    }

    /** Decodes into {@code type}, whatever compatible schema the data was written with. */
    public static <T extends SpecificRecord> AvroDeserializer<T> specific(Class<T> type, SchemaRegistryClient client) {
        return new AvroDeserializer<>(type, client);
    }

    /** Decodes into generic records of the writer schema. */
    public static AvroDeserializer<GenericRecord> generic(SchemaRegistryClient client) {
        return new AvroDeserializer<>(null, client);
    }

    /**
     * Reads {@link AvroSerdeConfig#SPECIFIC_AVRO_READER} (ignored when a class was given) and, when no client was
     * given, builds one from the registry keys (which it closes on {@link #close}).
     */
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        specificByName = type == null && AvroSerdeConfig.flag(configs, AvroSerdeConfig.SPECIFIC_AVRO_READER, false);
        if (client == null) {
            client = HttpSchemaRegistryClient.fromConfig(configs);
            ownsClient = true;
        }
        readersById.clear(); // the reader mode may have changed
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < HEADER_BYTES) {
            throw bad(topic, "expected at least 5 bytes (magic byte and schema id), got " + data.length);
        }
        if (data[0] != AvroSerializer.MAGIC_BYTE) {
            throw bad(topic, String.format("unknown magic byte 0x%02x (the Confluent wire format starts with 0x00)",
                    data[0]));
        }
        int id = ((data[1] & 0xff) << 24) | ((data[2] & 0xff) << 16) | ((data[3] & 0xff) << 8) | (data[4] & 0xff);
        DatumReader<T> reader = reader(topic, id);
        BoundedBinaryDecoder decoder = new BoundedBinaryDecoder(data, HEADER_BYTES, data.length - HEADER_BYTES);
        T value;
        try {
            value = reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            throw bad(topic, "schema id " + id + ": " + e.getMessage(), e);
        }
        if (decoder.remaining() != 0) {
            throw bad(topic, "schema id " + id + ": " + decoder.remaining() + " trailing bytes after the record");
        }
        return value;
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    private DatumReader<T> reader(String topic, int id) {
        DatumReader<T> reader = readersById.get(id);
        if (reader != null) {
            return reader;
        }
        if (client == null) {
            throw new IllegalStateException("AvroDeserializer has no schema registry client: call configure() first");
        }
        Schema writer;
        try {
            writer = client.getById(id);
        } catch (SchemaRegistryException e) {
            if (e.httpStatus() == 404) {
                throw bad(topic, "unknown schema id " + id + " (" + e.getMessage() + ")", e);
            }
            throw e;
        }
        return readersById.computeIfAbsent(id, i -> newReader(topic, writer));
    }

    @SuppressWarnings("unchecked")
    private DatumReader<T> newReader(String topic, Schema writer) {
        Class<?> target = type;
        if (target == null && specificByName) {
            target = SpecificData.get().getClass(writer);
            if (target == null) {
                throw bad(topic, "no generated class for writer schema " + writer.getFullName());
            }
        }
        if (target == null) {
            return new GenericDatumReader<>(writer, writer, GenericData.get());
        }
        // The class's own SpecificData knows its logical-type conversions (e.g. timestamp-millis as Instant).
        SpecificData model = SpecificData.getForClass(target);
        return (DatumReader<T>) new SpecificDatumReader<>(writer, model.getSchema(target), model);
    }

    private static SerializationException bad(String topic, String reason) {
        return bad(topic, reason, null);
    }

    private static SerializationException bad(String topic, String reason, Throwable cause) {
        return new SerializationException("Cannot deserialize Avro record from topic '" + topic + "': " + reason,
                cause);
    }
}
