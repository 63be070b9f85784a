package io.llmstream.schemas.registry;

/** Confluent compatibility levels; the *_TRANSITIVE ones check against every earlier version, not just the latest. */
public enum CompatibilityLevel {
    NONE,
    BACKWARD,
    BACKWARD_TRANSITIVE,
    FORWARD,
    FORWARD_TRANSITIVE,
    FULL,
    FULL_TRANSITIVE;

    /** Parses a level as the REST API spells it, naming the bad value otherwise. */
    public static CompatibilityLevel parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (RuntimeException e) {
            throw new SchemaRegistryException("invalid compatibility level '" + text + "'", 422, 42203);
        }
    }
}
