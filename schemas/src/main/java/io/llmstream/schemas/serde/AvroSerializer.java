package io.llmstream.schemas.serde;

import io.llmstream.schemas.Topics;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records (generated or generic) in the Confluent wire format: byte 0x00, the schema's registry id as a
 * 4-byte big-endian int, then the Avro binary encoding. The subject is {@code <topic>-value} or {@code <topic>-key}.
 * With auto-registration (the default) the record's schema is registered; without, it must already be registered.
 * Ids and datum writers are cached per schema, so the registry is asked once per topic and schema.
 *
 * <p>Thread-safe once configured. A null record is written as null (a tombstone).
 */
public final class AvroSerializer<T extends GenericContainer> implements Serializer<T> {
    static final byte MAGIC_BYTE = 0;

    // Each thread writes into its own reusable buffer, so a record costs one exact-size copy instead of a
    // ByteArrayOutputStream growing from a few bytes (a token record of 1 000 ids went through five copies).
    private static final ThreadLocal<Output> OUTPUTS = ThreadLocal.withInitial(Output::new);

    private final Map<String, Map<Schema, Integer>> idsByTopic = new ConcurrentHashMap<>();
    private final Map<Schema, DatumWriter<T>> writers = new ConcurrentHashMap<>();
    private volatile SchemaRegistryClient client;
    private volatile boolean ownsClient;
    private volatile boolean isKey;
    private volatile boolean autoRegister;

    /** For Kafka's instantiation by class name: {@link #configure} then supplies the registry and settings. */
    public AvroSerializer() {
        this.autoRegister = true;
    }

    /** A serializer of values or keys that registers schemas as needed. */
    public AvroSerializer(SchemaRegistryClient client, boolean isKey) {
        this(client, isKey, true);
    }

    /** A serializer of values or keys; {@code autoRegister == false} requires schemas to be registered already. */
    public AvroSerializer(SchemaRegistryClient client, boolean isKey, boolean autoRegister) {
        this.client = client;
        this.isKey = isKey;
        this.autoRegister = autoRegister;
    }

    /**
     * Reads {@link AvroSerdeConfig#AUTO_REGISTER_SCHEMAS} and, when no client was given, builds one from the registry
     * keys (which it closes on {@link #close}).
     */
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
        this.autoRegister = AvroSerdeConfig.flag(configs, AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, true);
        if (client == null) {
            client = HttpSchemaRegistryClient.fromConfig(configs);
            ownsClient = true;
        }
        idsByTopic.clear(); // cached ids belong to the subjects of the previous isKey
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        Schema schema = record.getSchema();
        int id = schemaId(topic, schema);
        DatumWriter<T> writer = writers.computeIfAbsent(schema, s -> newWriter(s, record));
        Output out = OUTPUTS.get();
        // Reconfiguring first: it flushes into the buffer whatever a record that failed half-way left in the encoder.
        out.encoder = EncoderFactory.get().binaryEncoder(out, out.encoder);
        out.clear();
        out.write(MAGIC_BYTE);
        out.write(id >>> 24);
        out.write(id >>> 16);
        out.write(id >>> 8);
        out.write(id);
        try {
            writer.write(record, out.encoder);
            out.encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Cannot serialize " + schema.getFullName() + " for topic '" + topic
                    + "': " + e.getMessage(), e);
        }
        return out.take();
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    private int schemaId(String topic, Schema schema) {
        Map<Schema, Integer> ids = idsByTopic.computeIfAbsent(topic, t -> new ConcurrentHashMap<>());
        Integer id = ids.get(schema);
        if (id != null) {
            return id;
        }
        if (client == null) {
            throw new IllegalStateException("AvroSerializer has no schema registry client: call configure() first");
        }
        String subject = Topics.subject(topic, isKey);
        try {
            id = autoRegister ? client.register(subject, schema) : client.lookup(subject, schema).id();
        } catch (SchemaRegistryException e) {
            String hint = !autoRegister && e.httpStatus() == 404
                    ? " (" + AvroSerdeConfig.AUTO_REGISTER_SCHEMAS + " is false, so it must be registered first)" : "";
            throw new SerializationException("Schema " + schema.getFullName() + " is not usable under subject '"
                    + subject + "' of topic '" + topic + "'" + hint + ": " + e.getMessage(), e);
        }
        ids.put(schema, id);
        return id;
    }

    private DatumWriter<T> newWriter(Schema schema, T record) {
        return DatumWriters.forRecord(schema, record);
    }

    /** A growable byte buffer of one thread (without ByteArrayOutputStream's locking) and the encoder over it. */
    private static final class Output extends OutputStream {
        private static final int INITIAL_BYTES = 8 * 1024;
        // A buffer grown past this by one large record is not kept for the thread's later, typical ones.
        private static final int RETAINED_BYTES = 1024 * 1024;

        private byte[] buf = new byte[INITIAL_BYTES];
        private int size;
        BinaryEncoder encoder;

        void clear() {
            size = 0;
        }

        @Override
        public void write(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            ensure(length);
            System.arraycopy(bytes, offset, buf, size, length);
            size += length;
        }

        /** The bytes written since {@link #clear}, copied out. */
        byte[] take() {
            byte[] written = Arrays.copyOf(buf, size);
            if (buf.length > RETAINED_BYTES) {
                buf = new byte[INITIAL_BYTES];
            }
            size = 0;
            return written;
        }

        private void ensure(int more) {
            if (size + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
            }
        }
    }
}
