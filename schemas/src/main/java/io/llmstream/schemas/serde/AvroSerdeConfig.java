package io.llmstream.schemas.serde;

import java.util.Map;

/**
 * Config keys of {@link AvroSerializer}, {@link AvroDeserializer} and {@link AvroSerde} when Kafka configures them
 * (the registry keys are those of {@link io.llmstream.schemas.registry.HttpSchemaRegistryClient}, e.g.
 * {@code schema.registry.url}).
 */
public final class AvroSerdeConfig {
    /** Serializer: register a record's schema when needed (default true); false only looks it up. */
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    /**
     * Deserializer built by class name: decode into the generated class named by the writer schema (true), or into
     * {@link org.apache.avro.generic.GenericRecord} with the writer schema (false, the default).
     */
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";

    private AvroSerdeConfig() {}

    static boolean flag(Map<String, ?> configs, String key, boolean defaultValue) {
        Object value = configs.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        String text = value.toString().trim();
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new IllegalArgumentException("Config '" + key + "' must be true or false, got '" + value + "'");
    }
}
