package io.llmstream.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * The logic of a Confluent-compatible schema registry, in memory: subjects, versions, global ids and compatibility
 * levels. Shared by {@link InMemorySchemaRegistryClient} and the embedded HTTP registry, which persists what
 * {@link #register} reports as {@link Registration#created() created} and replays it with {@link #restore} and
 * {@link #restoreCompatibility} on start.
 *
 * <p>Schemas are identified by their full JSON form ({@link Schema#toString()}), not by Avro's parsing canonical form,
 * because the latter drops defaults and docs, and defaults decide compatibility. Ids start at 1 and an identical schema
 * keeps one id across subjects. Thread-safe: every method holds the instance lock (registries see little traffic; the
 * clients cache).
 *
 * <p>Deletion works as Confluent's does: a soft delete hides a version (or every version of a subject) from listings,
 * lookups and compatibility checks while its id stays readable; only a soft-deleted version can then be deleted
 * permanently, which forgets it. An id is never given to another schema, so a record written with it never decodes
 * wrongly.
 *
 * <p>Failures raise {@link SchemaRegistryException} with Confluent's status and codes: 404/40401 subject not found,
 * 404/40402 version not found, 404/40403 schema not found, 404/40404 subject soft-deleted, 404/40405 subject not
 * soft-deleted before a permanent delete, 404/40406 version soft-deleted, 404/40407 version not soft-deleted before a
 * permanent delete, 409/409 incompatible schema.
 */
public final class SchemaRegistryState {

    /** What {@link #register} did: {@code created} is false when the schema was already under the subject. */
    public record Registration(RegisteredSchema registered, boolean created) {}

    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<String, Integer> idsByForm = new HashMap<>();
    private final Map<String, List<RegisteredSchema>> versionsBySubject = new TreeMap<>();
    private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
    /** Soft-deleted versions by subject. */
    private final Map<String, Set<Integer>> deleted = new HashMap<>();
    private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;
    private int nextId = 1;

    /**
     * Registers {@code schema} under {@code subject}. An already registered schema returns its existing registration
     * ({@code created == false}); otherwise the schema is checked against the subject's compatibility level and becomes
     * the next version, reusing the global id of an identical schema registered under any subject.
     *
     * @throws SchemaRegistryException 409/409 naming the subject and Avro's reasons when the schema is incompatible
     */
    public synchronized Registration register(String subject, Schema schema) {
        Objects.requireNonNull(subject, "subject");
        String form = schema.toString();
        List<RegisteredSchema> versions = live(subject);
        for (RegisteredSchema existing : versions) {
            if (existing.schema().toString().equals(form)) {
                return new Registration(existing, false);
            }
        }
        List<String> problems = incompatibilities(subject, versions, schema);
        if (!problems.isEmpty()) {
            throw new SchemaRegistryException("Schema being registered is incompatible with subject '" + subject
                    + "' (" + compatibility(subject) + "): " + String.join("; ", problems), 409, 409);
        }
        int id = idsByForm.computeIfAbsent(form, f -> nextId++);
        schemasById.putIfAbsent(id, schema);
        List<RegisteredSchema> all = versionsBySubject.getOrDefault(subject, List.of());
        int version = all.isEmpty() ? 1 : all.get(all.size() - 1).version() + 1; // soft-deleted numbers stay taken
        RegisteredSchema registered = new RegisteredSchema(subject, version, id, schema);
        versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>()).add(registered);
        return new Registration(registered, true);
    }

    /** The registration of {@code schema} under {@code subject}; 404/40401 unknown subject, 404/40403 not under it. */
    public synchronized RegisteredSchema lookup(String subject, Schema schema) {
        return lookup(subject, schema, false);
    }

    /** {@link #lookup(String, Schema)}, soft-deleted versions included when {@code includeDeleted}. */
    public synchronized RegisteredSchema lookup(String subject, Schema schema, boolean includeDeleted) {
        String form = schema.toString();
        return versionsOf(subject, includeDeleted).stream()
                .filter(r -> r.schema().toString().equals(form))
                .findFirst()
                .orElseThrow(() -> new SchemaRegistryException(
                        "Schema not found under subject '" + subject + "'", 404, 40403));
    }

    /** The schema with this global id; 404/40403 when unknown. */
    public synchronized Schema getById(int id) {
        Schema schema = schemasById.get(id);
        if (schema == null || subjectVersions(id, true).isEmpty()) {
            throw new SchemaRegistryException("Schema id " + id + " not found", 404, 40403);
        }
        return schema;
    }

    /** One version of a subject; 404/40401 unknown subject, 404/40402 unknown (or soft-deleted) version. */
    public synchronized RegisteredSchema version(String subject, int version) {
        return version(subject, version, false);
    }

    /** {@link #version(String, int)}, soft-deleted versions included when {@code includeDeleted}. */
    public synchronized RegisteredSchema version(String subject, int version, boolean includeDeleted) {
        return versionsOf(subject, includeDeleted).stream()
                .filter(r -> r.version() == version)
                .findFirst()
                .orElseThrow(() -> new SchemaRegistryException(
                        "Version " + version + " not found under subject '" + subject + "'", 404, 40402));
    }

    /** The latest version of a subject; 404/40401 when the subject does not exist. */
    public synchronized RegisteredSchema latest(String subject) {
        List<RegisteredSchema> versions = versionsOf(subject, false);
        return versions.get(versions.size() - 1);
    }

    /** All subjects with a version that is not soft-deleted, sorted. */
    public synchronized List<String> subjects() {
        return subjects(false);
    }

    /** All subjects, sorted; those whose every version is soft-deleted too when {@code includeDeleted}. */
    public synchronized List<String> subjects(boolean includeDeleted) {
        return versionsBySubject.entrySet().stream()
                .filter(e -> !e.getValue().isEmpty() && (includeDeleted || !live(e.getKey()).isEmpty()))
                .map(Map.Entry::getKey).toList();
    }

    /** The versions of a subject, ascending; 404/40401 when the subject does not exist. */
    public synchronized List<Integer> versions(String subject) {
        return versions(subject, false);
    }

    /** {@link #versions(String)}, soft-deleted versions included when {@code includeDeleted}. */
    public synchronized List<Integer> versions(String subject, boolean includeDeleted) {
        return versionsOf(subject, includeDeleted).stream().map(RegisteredSchema::version).toList();
    }

    /** The subject versions registered with schema {@code id}, soft-deleted ones too when {@code includeDeleted}. */
    public synchronized List<RegisteredSchema> subjectVersions(int id, boolean includeDeleted) {
        return versionsBySubject.keySet().stream()
                .flatMap(subject -> (includeDeleted ? versionsBySubject.get(subject) : live(subject)).stream())
                .filter(r -> r.id() == id)
                .toList();
    }

    /**
     * Deletes every version of {@code subject}: soft (the default), or permanently once soft-deleted; returns the
     * versions deleted. 404/40401 unknown subject, 404/40404 soft-deleted already, 404/40405 permanent before soft.
     */
    public synchronized List<RegisteredSchema> deleteSubject(String subject, boolean permanent) {
        List<RegisteredSchema> all = versionsOf(subject, true);
        List<RegisteredSchema> live = live(subject);
        if (!permanent) {
            if (live.isEmpty()) {
                throw new SchemaRegistryException("Subject '" + subject + "' was soft deleted. Set permanent=true to"
                        + " delete permanently", 404, 40404);
            }
            live.forEach(r -> markDeleted(subject, r.version()));
            return live;
        }
        if (!live.isEmpty()) {
            throw new SchemaRegistryException("Subject '" + subject + "' was not deleted first before being"
                    + " permanently deleted", 404, 40405);
        }
        versionsBySubject.remove(subject);
        deleted.remove(subject);
        return all;
    }

    /**
     * Deletes one version: soft (the default), or permanently once soft-deleted. 404/40401 unknown subject,
     * 404/40402 unknown version, 404/40406 soft-deleted already, 404/40407 permanent before soft.
     */
    public synchronized RegisteredSchema deleteVersion(String subject, int version, boolean permanent) {
        RegisteredSchema target = version(subject, version, true);
        boolean soft = isDeleted(subject, version);
        if (!permanent) {
            if (soft) {
                throw new SchemaRegistryException("Subject '" + subject + "' Version " + version + " was soft deleted."
                        + " Set permanent=true to delete permanently", 404, 40406);
            }
            markDeleted(subject, version);
            return target;
        }
        if (!soft) {
            throw new SchemaRegistryException("Subject '" + subject + "' Version " + version + " was not deleted"
                    + " first before being permanently deleted", 404, 40407);
        }
        forget(subject, version);
        return target;
    }

    /** Replays a stored soft delete of one version (idempotent). */
    public synchronized void restoreDeleted(String subject, int version) {
        markDeleted(subject, version);
    }

    /** Replays a stored permanent delete of one version (idempotent; nothing to do for an unknown one). */
    public synchronized void restoreForgotten(String subject, int version) {
        forget(subject, version);
    }

    /**
     * Whether {@code schema} passes the subject's compatibility check against its latest version (every version for
     * the *_TRANSITIVE levels); true for a subject without versions.
     */
    public synchronized boolean isCompatible(String subject, Schema schema) {
        List<RegisteredSchema> versions = live(subject);
        return incompatibilities(subject, versions, schema).isEmpty();
    }

    /** The level of {@code subject}, or the global level (default BACKWARD) when it has none or is null. */
    public synchronized CompatibilityLevel compatibility(String subject) {
        return subject == null ? globalLevel : subjectLevels.getOrDefault(subject, globalLevel);
    }

    /** Sets the level of {@code subject}, or the global level when {@code subject} is null. */
    public synchronized void setCompatibility(String subject, CompatibilityLevel level) {
        Objects.requireNonNull(level, "level");
        if (subject == null) {
            globalLevel = level;
        } else {
            subjectLevels.put(subject, level);
        }
    }

    /** Replays a stored {@link #setCompatibility} call: the same operation, named to pair with {@link #restore}. */
    public void restoreCompatibility(String subject, CompatibilityLevel level) {
        setCompatibility(subject, level);
    }

    /**
     * Replays a stored registration, keeping its id and version and skipping the compatibility check (it passed when
     * first registered). Idempotent; later {@link #register} calls continue after the highest id and version.
     *
     * @throws IllegalStateException when the registration contradicts what is already known (storage corruption)
     */
    public synchronized void restore(RegisteredSchema registration) {
        String form = registration.schema().toString();
        Integer knownId = idsByForm.get(form);
        Schema knownSchema = schemasById.get(registration.id());
        if ((knownId != null && knownId != registration.id())
                || (knownSchema != null && !knownSchema.toString().equals(form))) {
            throw new IllegalStateException("Cannot restore " + registration.subject() + " v" + registration.version()
                    + ": schema id " + registration.id() + " conflicts with an already restored schema");
        }
        List<RegisteredSchema> versions =
                versionsBySubject.computeIfAbsent(registration.subject(), s -> new ArrayList<>());
        int slot = 0;
        while (slot < versions.size() && versions.get(slot).version() < registration.version()) {
            slot++;
        }
        if (slot < versions.size() && versions.get(slot).version() == registration.version()) {
            if (versions.get(slot).id() != registration.id()) {
                throw new IllegalStateException("Cannot restore " + registration.subject() + " v"
                        + registration.version() + " with id " + registration.id() + ": already restored with id "
                        + versions.get(slot).id());
            }
            return;
        }
        versions.add(slot, registration);
        idsByForm.put(form, registration.id());
        schemasById.put(registration.id(), registration.schema());
        nextId = Math.max(nextId, registration.id() + 1);
    }

    /** The versions of a subject (soft-deleted ones only when asked); 404/40401 when none. */
    private List<RegisteredSchema> versionsOf(String subject, boolean includeDeleted) {
        List<RegisteredSchema> versions = includeDeleted ? versionsBySubject.get(subject) : live(subject);
        if (versions == null || versions.isEmpty()) {
            throw new SchemaRegistryException("Subject '" + subject + "' not found", 404, 40401);
        }
        return versions;
    }

    private List<RegisteredSchema> live(String subject) {
        return versionsBySubject.getOrDefault(subject, List.of()).stream()
                .filter(r -> !isDeleted(subject, r.version()))
                .toList();
    }

    private boolean isDeleted(String subject, int version) {
        return deleted.getOrDefault(subject, Set.of()).contains(version);
    }

    private void markDeleted(String subject, int version) {
        deleted.computeIfAbsent(subject, s -> new HashSet<>()).add(version);
    }

    private void forget(String subject, int version) {
        List<RegisteredSchema> versions = versionsBySubject.get(subject);
        if (versions != null) {
            versions.removeIf(r -> r.version() == version);
            if (versions.isEmpty()) {
                versionsBySubject.remove(subject);
            }
        }
        Set<Integer> soft = deleted.get(subject);
        if (soft != null) {
            soft.remove(version);
        }
    }

    /** Avro's reasons why {@code schema} may not join {@code versions} under the subject's level; empty when it may. */
    private List<String> incompatibilities(String subject, List<RegisteredSchema> versions, Schema schema) {
        CompatibilityLevel level = compatibility(subject);
        if (level == CompatibilityLevel.NONE || versions.isEmpty()) {
            return List.of();
        }
        boolean transitive = switch (level) {
            case BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE, FULL_TRANSITIVE -> true;
            default -> false;
        };
        boolean backward = switch (level) {
            case BACKWARD, BACKWARD_TRANSITIVE, FULL, FULL_TRANSITIVE -> true;
            default -> false;
        };
        boolean forward = switch (level) {
            case FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE -> true;
            default -> false;
        };
        List<RegisteredSchema> against = transitive ? versions : versions.subList(versions.size() - 1, versions.size());
        List<String> problems = new ArrayList<>();
        for (RegisteredSchema existing : against) {
            if (backward) {
                problems.addAll(check(schema, existing.schema(),
                        "new schema cannot read version " + existing.version()));
            }
            if (forward) {
                problems.addAll(check(existing.schema(), schema,
                        "version " + existing.version() + " cannot read new schema"));
            }
        }
        return problems;
    }

    private static List<String> check(Schema reader, Schema writer, String what) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult().getIncompatibilities()
                .stream()
                .map(i -> what + ": " + i.getType() + " at " + i.getLocation() + " (" + i.getMessage() + ")")
                .toList();
    }
}
