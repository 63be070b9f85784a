package io.llmstream.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.llmstream.schemas.Document;
import io.llmstream.schemas.TrainingWindow;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class SchemaRegistryStateTest {
    private static final Schema V1 = SchemaBuilder.record("Event").namespace("t").fields()
            .requiredString("id").endRecord();
    /** V1 plus an optional field: BACKWARD and FORWARD compatible with V1. */
    private static final Schema V2_OPTIONAL = SchemaBuilder.record("Event").namespace("t").fields()
            .requiredString("id").optionalString("note").endRecord();
    /** V1 plus a field without default: cannot read V1 data. */
    private static final Schema V2_REQUIRED = SchemaBuilder.record("Event").namespace("t").fields()
            .requiredString("id").requiredLong("ts").endRecord();
    /** V1 without its only field: can read V1 data, but V1 readers cannot read it. */
    private static final Schema V2_EMPTY = SchemaBuilder.record("Event").namespace("t").fields().endRecord();

    private final SchemaRegistryState state = new SchemaRegistryState();

    @Test
    void registeringTheSameSchemaTwiceReturnsTheFirstRegistration() {
        SchemaRegistryState.Registration first = state.register("events-value", V1);
        // A schema parsed again from text is a different object with the same form.
        SchemaRegistryState.Registration again = state.register("events-value", new Schema.Parser().parse(V1.toString()));

        assertThat(first.created()).isTrue();
        assertThat(again.created()).isFalse();
        assertThat(again.registered()).isEqualTo(first.registered());
        assertThat(first.registered().id()).isEqualTo(1);
        assertThat(first.registered().version()).isEqualTo(1);
        assertThat(state.versions("events-value")).containsExactly(1);
    }

    @Test
    void anIdenticalSchemaKeepsItsIdAcrossSubjectsAndNewSchemasGetTheNextId() {
        int a = state.register("a-value", V1).registered().id();
        RegisteredSchema b = state.register("b-value", V1).registered();
        int other = state.register("c-value", Document.getClassSchema()).registered().id();

        assertThat(b.id()).isEqualTo(a);
        assertThat(b.version()).isEqualTo(1);
        assertThat(other).isEqualTo(a + 1);
        assertThat(state.subjects()).containsExactly("a-value", "b-value", "c-value");
    }

    @Test
    void aCompatibleChangeBecomesTheNextVersion() {
        RegisteredSchema v1 = state.register("events-value", V1).registered();
        RegisteredSchema v2 = state.register("events-value", V2_OPTIONAL).registered();

        assertThat(v2.version()).isEqualTo(2);
        assertThat(v2.id()).isNotEqualTo(v1.id());
        assertThat(state.latest("events-value")).isEqualTo(v2);
        assertThat(state.version("events-value", 1)).isEqualTo(v1);
        assertThat(state.versions("events-value")).containsExactly(1, 2);
        assertThat(state.getById(v1.id())).isEqualTo(V1);
        // Re-registering the older schema is not a change: it returns version 1.
        assertThat(state.register("events-value", V1).registered()).isEqualTo(v1);
    }

    @Test
    void backwardRejectsAFieldWithoutDefaultNamingSubjectAndReason() {
        state.register("events-value", V1);

        assertThat(state.isCompatible("events-value", V2_REQUIRED)).isFalse();
        assertThatThrownBy(() -> state.register("events-value", V2_REQUIRED))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(409);
                    assertThat(e.errorCode()).isEqualTo(409);
                })
                .hasMessageContaining("events-value")
                .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE")
                .hasMessageContaining("ts");
        assertThat(state.versions("events-value")).containsExactly(1);
    }

    @Test
    void noneAllowsAnyChangeForThatSubjectOnly() {
        state.register("events-value", V1);
        state.register("other-value", V1);
        state.setCompatibility("events-value", CompatibilityLevel.NONE);

        assertThat(state.register("events-value", V2_REQUIRED).registered().version()).isEqualTo(2);
        assertThatThrownBy(() -> state.register("other-value", V2_REQUIRED))
                .isInstanceOf(SchemaRegistryException.class);
    }

    @Test
    void forwardAndFullCheckThatOldReadersCanReadNewData() {
        state.register("events-value", V1);
        assertThat(state.isCompatible("events-value", V2_EMPTY)).isTrue(); // BACKWARD: new reads old

        state.setCompatibility("events-value", CompatibilityLevel.FORWARD);
        assertThat(state.isCompatible("events-value", V2_EMPTY)).isFalse();
        assertThat(state.isCompatible("events-value", V2_REQUIRED)).isTrue(); // old ignores the extra field

        state.setCompatibility("events-value", CompatibilityLevel.FULL);
        assertThat(state.isCompatible("events-value", V2_EMPTY)).isFalse();
        assertThat(state.isCompatible("events-value", V2_REQUIRED)).isFalse();
        assertThat(state.isCompatible("events-value", V2_OPTIONAL)).isTrue();
    }

    @Test
    void transitiveLevelsCheckEveryVersionNotJustTheLatest() {
        Schema x = SchemaBuilder.record("E").fields().requiredString("x").endRecord();
        Schema y = SchemaBuilder.record("E").fields().requiredString("y").endRecord();
        // Reads y-data (z defaults) but not x-data (y has no default).
        Schema yz = SchemaBuilder.record("E").fields().requiredString("y").name("z").type().stringType()
                .stringDefault("").endRecord();
        state.register("e-value", x);
        state.setCompatibility("e-value", CompatibilityLevel.NONE);
        state.register("e-value", y);

        state.setCompatibility("e-value", CompatibilityLevel.BACKWARD);
        assertThat(state.isCompatible("e-value", yz)).isTrue();
        state.setCompatibility("e-value", CompatibilityLevel.BACKWARD_TRANSITIVE);
        assertThat(state.isCompatible("e-value", yz)).isFalse();
        assertThatThrownBy(() -> state.register("e-value", yz)).hasMessageContaining("version 1");
    }

    @Test
    void compatibilityFallsBackToTheGlobalLevelWhichDefaultsToBackward() {
        assertThat(state.compatibility(null)).isEqualTo(CompatibilityLevel.BACKWARD);
        assertThat(state.compatibility("unknown-value")).isEqualTo(CompatibilityLevel.BACKWARD);

        state.setCompatibility("a-value", CompatibilityLevel.FULL);
        state.setCompatibility(null, CompatibilityLevel.NONE);

        assertThat(state.compatibility("a-value")).isEqualTo(CompatibilityLevel.FULL);
        assertThat(state.compatibility("b-value")).isEqualTo(CompatibilityLevel.NONE);
        assertThat(state.compatibility(null)).isEqualTo(CompatibilityLevel.NONE);
    }

    @Test
    void lookupsFailWithConfluentCodes() {
        state.register("events-value", V1);

        assertThat(state.lookup("events-value", new Schema.Parser().parse(V1.toString())).version()).isEqualTo(1);
        assertCode(() -> state.lookup("missing-value", V1), 404, 40401, "missing-value");
        assertCode(() -> state.lookup("events-value", V2_OPTIONAL), 404, 40403, "events-value");
        assertCode(() -> state.getById(99), 404, 40403, "99");
        assertCode(() -> state.version("events-value", 5), 404, 40402, "events-value");
        assertCode(() -> state.version("missing-value", 1), 404, 40401, "missing-value");
        assertCode(() -> state.latest("missing-value"), 404, 40401, "missing-value");
        assertCode(() -> state.versions("missing-value"), 404, 40401, "missing-value");
    }

    @Test
    void aRejectedFirstSchemaNeverCreatesTheSubject() {
        state.register("events-value", V1);
        assertThatThrownBy(() -> state.register("events-value", V2_REQUIRED)).isInstanceOf(SchemaRegistryException.class);
        assertThat(state.isCompatible("fresh-value", V2_REQUIRED)).isTrue();
        assertThat(state.subjects()).containsExactly("events-value");
    }

    @Test
    void restoreKeepsIdsAndVersionsIsIdempotentAndRegistrationContinuesAfterIt() {
        RegisteredSchema stored = new RegisteredSchema("events-value", 3, 41, V1);
        state.restore(stored);
        state.restore(stored);
        state.restore(new RegisteredSchema("copy-value", 1, 41, V1));
        state.restoreCompatibility("events-value", CompatibilityLevel.FULL);

        assertThat(state.latest("events-value")).isEqualTo(stored);
        assertThat(state.versions("events-value")).containsExactly(3);
        assertThat(state.getById(41)).isEqualTo(V1);
        assertThat(state.compatibility("events-value")).isEqualTo(CompatibilityLevel.FULL);
        assertThat(state.register("events-value", V1).created()).isFalse();

        RegisteredSchema next = state.register("events-value", V2_OPTIONAL).registered();
        assertThat(next.version()).isEqualTo(4);
        assertThat(next.id()).isEqualTo(42);
    }

    @Test
    void restoreRefusesContradictions() {
        state.restore(new RegisteredSchema("events-value", 1, 5, V1));

        assertThatThrownBy(() -> state.restore(new RegisteredSchema("events-value", 1, 6, V2_OPTIONAL)))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> state.restore(new RegisteredSchema("x-value", 1, 5, V2_OPTIONAL)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("5");
        assertThatThrownBy(() -> state.restore(new RegisteredSchema("x-value", 1, 9, V1)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void concurrentRegistrationsAgreeOnOneIdPerSchema() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        Set<Integer> windowIds = ConcurrentHashMap.newKeySet();
        try {
            List<Future<?>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String subject = "topic-" + (i % 20) + "-value";
                futures.add(pool.submit(() -> windowIds.add(
                        state.register(subject, TrainingWindow.getClassSchema()).registered().id())));
            }
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(windowIds).containsExactly(1);
        assertThat(state.subjects()).hasSize(20);
        state.subjects().forEach(s -> assertThat(state.versions(s)).containsExactly(1));
    }

    private static void assertCode(Runnable call, int status, int code, String named) {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(status);
                    assertThat(e.errorCode()).isEqualTo(code);
                })
                .hasMessageContaining(named);
    }
}
