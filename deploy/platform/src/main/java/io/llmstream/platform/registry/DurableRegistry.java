package io.llmstream.platform.registry;

import io.llmstream.schemas.registry.CompatibilityLevel;
import io.llmstream.schemas.registry.RegisteredSchema;
import io.llmstream.schemas.registry.SchemaRegistryException;
import io.llmstream.schemas.registry.SchemaRegistryState;
import java.util.List;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the in-memory {@link SchemaRegistryState} and the {@link SchemaTopic} in step: a change is visible to readers
 * only once it has been written to Kafka. Mutations are serialised under one write lock, so the id and version a
 * registration gets and the order of the log agree.
 *
 * <p>When a write fails the in-memory state is dropped, not patched back: the write may still have reached the broker
 * (a timeout is ambiguous), so the next call reloads the state from the topic, which is the source of truth. Thread-safe.
 */
final class DurableRegistry {
    private static final Logger log = LoggerFactory.getLogger(DurableRegistry.class);

    private final SchemaTopic topic;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private SchemaRegistryState state; // guarded by lock; null when it must be reloaded from the topic

    DurableRegistry(SchemaTopic topic) {
        this.topic = topic;
        this.state = topic.load();
    }

    /** Answers {@code query} on the stored state (never on a change that is still being written). */
    <T> T read(Function<SchemaRegistryState, T> query) {
        lock.readLock().lock();
        try {
            if (state != null) {
                return query.apply(state);
            }
        } finally {
            lock.readLock().unlock();
        }
        lock.writeLock().lock(); // only after a failed write: reload first
        try {
            return query.apply(current());
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Registers {@code schema} under {@code subject}, storing a new registration before returning it. */
    RegisteredSchema register(String subject, Schema schema) {
        lock.writeLock().lock();
        try {
            SchemaRegistryState.Registration registration = current().register(subject, schema);
            if (registration.created()) {
                store(() -> topic.append(registration.registered()), "registration of subject '" + subject + "'");
            }
            return registration.registered();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Deletes every version of a subject (soft, or permanently), storing each change before returning them. */
    List<RegisteredSchema> deleteSubject(String subject, boolean permanent) {
        lock.writeLock().lock();
        try {
            List<RegisteredSchema> deleted = current().deleteSubject(subject, permanent);
            store(() -> deleted.forEach(r -> stored(r, permanent)), "delete of subject '" + subject + "'");
            return deleted;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Deletes one version (soft, or permanently), storing the change before returning it. */
    RegisteredSchema deleteVersion(String subject, int version, boolean permanent) {
        lock.writeLock().lock();
        try {
            RegisteredSchema deleted = current().deleteVersion(subject, version, permanent);
            store(() -> stored(deleted, permanent), "delete of subject '" + subject + "' version " + version);
            return deleted;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void stored(RegisteredSchema deleted, boolean permanent) {
        if (permanent) {
            topic.appendForgotten(deleted);
        } else {
            topic.appendDeleted(deleted);
        }
    }

    /** Stores, then applies, a compatibility level ({@code subject} null for the global level). */
    void setCompatibility(String subject, CompatibilityLevel level) {
        lock.writeLock().lock();
        try {
            SchemaRegistryState current = current();
            store(() -> topic.appendCompatibility(subject, level), "compatibility of " + describe(subject));
            current.setCompatibility(subject, level);
        } finally {
            lock.writeLock().unlock();
        }
    }

    // Called under the write lock.
    private void store(Runnable write, String what) {
        try {
            write.run();
        } catch (RuntimeException e) {
            state = null;
            log.error("Could not store the {}; the registry will reload from Kafka", what, e);
            throw new SchemaRegistryException("Error in the backend data store: could not store the " + what
                    + " (" + e.getMessage() + ")", 500, 50001, e);
        }
    }

    // Called under the write lock.
    private SchemaRegistryState current() {
        if (state == null) {
            try {
                state = topic.load();
            } catch (RuntimeException e) {
                throw new SchemaRegistryException("Error in the backend data store: could not reload the registry ("
                        + e.getMessage() + ")", 500, 50001, e);
            }
        }
        return state;
    }

    private static String describe(String subject) {
        return subject == null ? "the global config" : "subject '" + subject + "'";
    }
}
