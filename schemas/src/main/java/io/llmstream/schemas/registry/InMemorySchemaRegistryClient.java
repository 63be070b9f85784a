package io.llmstream.schemas.registry;

import java.util.List;
import org.apache.avro.Schema;

/** A {@link SchemaRegistryClient} backed directly by a {@link SchemaRegistryState}: no network, for tests and tools. */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {
    private final SchemaRegistryState state;

    /** A client over a fresh, empty registry. */
    public InMemorySchemaRegistryClient() {
        this(new SchemaRegistryState());
    }

    /** A client over {@code state}, which other clients may share. */
    public InMemorySchemaRegistryClient(SchemaRegistryState state) {
        this.state = state;
    }

    @Override
    public int register(String subject, Schema schema) {
        return state.register(subject, schema).registered().id();
    }

    @Override
    public RegisteredSchema lookup(String subject, Schema schema) {
        return state.lookup(subject, schema);
    }

    @Override
    public Schema getById(int id) {
        return state.getById(id);
    }

    @Override
    public RegisteredSchema latest(String subject) {
        return state.latest(subject);
    }

    @Override
    public List<String> subjects() {
        return state.subjects();
    }

    @Override
    public List<Integer> versions(String subject) {
        return state.versions(subject);
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
        return state.isCompatible(subject, schema);
    }

    @Override
    public CompatibilityLevel compatibility(String subject) {
        return state.compatibility(subject);
    }

    @Override
    public void setCompatibility(String subject, CompatibilityLevel level) {
        state.setCompatibility(subject, level);
    }
}
