package io.llmstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class SchemasTest {
    private static final List<Schema> TOP_LEVEL = List.of(Document.getClassSchema(),
            TokenizedDocument.getClassSchema(), TrainingWindow.getClassSchema(), InferenceRequest.getClassSchema(),
            InferenceResult.getClassSchema(), ModelPublished.getClassSchema());

    @Test
    void everyNamedTypeAndFieldHasADoc() {
        List<String> missing = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        TOP_LEVEL.forEach(s -> collectMissingDocs(s, seen, missing));
        assertThat(seen).contains("io.llmstream.schemas.TokenizerRef", "io.llmstream.schemas.GenerationParams",
                "io.llmstream.schemas.ModelArchitecture", "io.llmstream.schemas.FinishReason");
        assertThat(missing).isEmpty();
    }

    @Test
    void optionalFieldsAreNullFirstUnionsDefaultingToNull() {
        List<String> wrong = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        TOP_LEVEL.forEach(s -> fields(s, seen).forEach(f -> {
            if (f.schema().isNullable() && !(f.schema().getTypes().get(0).getType() == Schema.Type.NULL
                    && f.defaultVal() == JsonProperties.NULL_VALUE)) {
                wrong.add(f.name());
            }
        }));
        assertThat(wrong).isEmpty();
    }

    @Test
    void allRecordsLiveInTheSharedNamespace() {
        assertThat(TOP_LEVEL).extracting(Schema::getNamespace).containsOnly("io.llmstream.schemas");
    }

    @Test
    void subjectsFollowTopicNameStrategy() {
        assertThat(Topics.subject(Topics.DOCUMENTS, false)).isEqualTo("documents-value");
        assertThat(Topics.subject(Topics.INFERENCE_REQUESTS, true)).isEqualTo("inference-requests-key");
    }

    private static void collectMissingDocs(Schema schema, Set<String> seen, List<String> missing) {
        switch (schema.getType()) {
            case RECORD, ENUM -> {
                if (!seen.add(schema.getFullName())) {
                    return;
                }
                if (schema.getDoc() == null || schema.getDoc().isBlank()) {
                    missing.add(schema.getFullName());
                }
                if (schema.getType() == Schema.Type.RECORD) {
                    for (Schema.Field field : schema.getFields()) {
                        if (field.doc() == null || field.doc().isBlank()) {
                            missing.add(schema.getFullName() + "." + field.name());
                        }
                        collectMissingDocs(field.schema(), seen, missing);
                    }
                }
            }
            case UNION -> schema.getTypes().forEach(t -> collectMissingDocs(t, seen, missing));
            case ARRAY -> collectMissingDocs(schema.getElementType(), seen, missing);
            case MAP -> collectMissingDocs(schema.getValueType(), seen, missing);
            default -> { }
        }
    }

    private static Stream<Schema.Field> fields(Schema schema, Set<String> seen) {
        if (schema.getType() != Schema.Type.RECORD || !seen.add(schema.getFullName())) {
            return Stream.empty();
        }
        return schema.getFields().stream().flatMap(f -> Stream.concat(Stream.of(f), fields(f.schema(), seen)));
    }
}
