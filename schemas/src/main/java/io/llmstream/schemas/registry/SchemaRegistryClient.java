package io.llmstream.schemas.registry;

import java.util.List;
import org.apache.avro.Schema;

/**
 * The subset of the Confluent schema-registry REST API that llmstream uses.
 *
 * <p>Implementations are thread-safe. Failures raise {@link SchemaRegistryException}, which names the subject (or id)
 * and the HTTP status / Confluent error code.
 */
public interface SchemaRegistryClient extends AutoCloseable {

    /** Registers {@code schema} under {@code subject} (idempotent) and returns its global id. 409 when incompatible. */
    int register(String subject, Schema schema);

    /** Looks up an already registered schema under {@code subject}; 404 (40401/40403) when it is not there. */
    RegisteredSchema lookup(String subject, Schema schema);

    /** The schema with this global id; 404 (40403) when unknown. */
    Schema getById(int id);

    /** The latest version registered under {@code subject}; 404 (40401) when the subject does not exist. */
    RegisteredSchema latest(String subject);

    /** All subjects, sorted. */
    List<String> subjects();

    /** The versions registered under {@code subject}, ascending. */
    List<Integer> versions(String subject);

    /** Whether {@code schema} could be registered under {@code subject} given its compatibility level. */
    boolean isCompatible(String subject, Schema schema);

    /** The compatibility level of {@code subject}, or the global level when {@code subject} is null or has none. */
    CompatibilityLevel compatibility(String subject);

    /** Sets the compatibility level of {@code subject}, or the global level when {@code subject} is null. */
    void setCompatibility(String subject, CompatibilityLevel level);

    @Override
    default void close() {}
}
