package io.llmstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.llmstream.schemas.Document;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.SampleRecords;
import io.llmstream.schemas.TokenizedDocument;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.registry.CannedRegistryServer;
import io.llmstream.schemas.registry.InMemorySchemaRegistryClient;
import io.llmstream.schemas.registry.RegisteredSchema;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AvroSerdeTest {
    private static final String TOPIC = "documents";

    private final SchemaRegistryState registry = new SchemaRegistryState();
    private final SchemaRegistryClient client = new InMemorySchemaRegistryClient(registry);
    private final AvroSerde<Document> documents = AvroSerde.specific(Document.class, client, false);

    static Stream<Arguments> samples() {
        return SampleRecords.all().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @Test
    void loneSurrogatesTravelAsReplacementCharacterNotQuestionMark() {
        Document doc = new Document("d\uDC00", "a\uD800b \uD83D\uDE00 c\uDBFF", null, Map.of(), null);
        Document decoded = documents.deserializer().deserialize(TOPIC, documents.serializer().serialize(TOPIC, doc));
        assertThat(decoded.getText()).isEqualTo("a\uFFFDb \uD83D\uDE00 c\uFFFD");
        assertThat(decoded.getId()).isEqualTo("d\uFFFD");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void roundTripsEveryRecordInConfluentWireFormat(String label, SpecificRecord record) throws IOException {
        String topic = "topic-" + record.getSchema().getName();
        AvroSerde<SpecificRecord> serde = specificSerdeFor(record);

        byte[] bytes = serde.serializer().serialize(topic, record);
        Object decoded = serde.deserializer().deserialize(topic, bytes);

        assertThat(decoded).isEqualTo(record);
        int id = client.lookup(topic + "-value", record.getSchema()).id();
        assertThat(Arrays.copyOfRange(bytes, 0, 5)).containsExactly(0, 0, 0, 0, id);
        assertThat(Arrays.copyOfRange(bytes, 5, bytes.length)).isEqualTo(plainAvro(record));
    }

    @Test
    void headerIsMagicByteThenTheIdBigEndian() {
        registry.restore(new RegisteredSchema("documents-value", 1, 0x01020304, Document.getClassSchema()));

        byte[] bytes = documents.serializer().serialize(TOPIC, SampleRecords.document());

        assertThat(Arrays.copyOfRange(bytes, 0, 5)).containsExactly(0x00, 0x01, 0x02, 0x03, 0x04);
        assertThat(documents.deserializer().deserialize(TOPIC, bytes)).isEqualTo(SampleRecords.document());
    }

    @Test
    void keysUseTheKeySubject() {
        AvroSerde<Document> keys = AvroSerde.specific(Document.class, client, true);

        keys.serializer().serialize(TOPIC, SampleRecords.document());

        assertThat(client.subjects()).containsExactly("documents-key");
    }

    @Test
    void withoutAutoRegistrationTheSchemaMustBeRegisteredFirst() {
        AvroSerializer<Document> serializer = new AvroSerializer<>(client, false, false);

        assertThatThrownBy(() -> serializer.serialize(TOPIC, SampleRecords.document()))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("subject 'documents-value'")
                .hasMessageContaining("auto.register.schemas is false");
        assertThat(client.subjects()).isEmpty();

        int id = client.register("documents-value", Document.getClassSchema());
        assertThat(serializer.serialize(TOPIC, SampleRecords.document())[4]).isEqualTo((byte) id);
    }

    @Test
    void configureReadsAutoRegistration() {
        AvroSerializer<Document> serializer = new AvroSerializer<>(client, false);
        serializer.configure(Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false"), false);

        assertThatThrownBy(() -> serializer.serialize(TOPIC, SampleRecords.document()))
                .isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> serializer.configure(Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "maybe"), false))
                .hasMessageContaining("auto.register.schemas");
    }

    @Test
    void recordsWrittenWithAnOlderSchemaReadIntoTheCurrentClassWithDefaults() {
        Schema v1 = new Schema.Parser().parse("""
                {"type": "record", "name": "Document", "namespace": "io.llmstream.schemas", "doc": "v1",
                 "fields": [{"name": "id", "type": "string", "doc": "id"},
                            {"name": "text", "type": "string", "doc": "text"}]}""");
        byte[] old = AvroSerde.generic(client, false).serializer().serialize(TOPIC,
                new GenericRecordBuilder(v1).set("id", "doc-old").set("text", "written by v1").build());
        documents.serializer().serialize(TOPIC, SampleRecords.document()); // registers the current schema as v2

        Document decoded = documents.deserializer().deserialize(TOPIC, old);

        assertThat(client.versions("documents-value")).containsExactly(1, 2);
        assertThat(decoded.getId()).isEqualTo("doc-old");
        assertThat(decoded.getText()).isEqualTo("written by v1");
        assertThat(decoded.getSource()).isNull();
        assertThat(decoded.getAttributes()).isEmpty();
        assertThat(decoded.getCreatedAt()).isNull();
    }

    @Test
    void trainingWindowsWrittenBeforeTheLossMaskReadWithEveryTargetCountingAndNoLabel() {
        String current = TrainingWindow.getClassSchema().toString();
        Schema beforeMask = new Schema.Parser().parse(current.substring(0, current.indexOf(",{\"name\":\"lossMask\""))
                + "]}");
        assertThat(beforeMask.getField("lossMask")).isNull();
        AvroSerde<TrainingWindow> windows = AvroSerde.specific(TrainingWindow.class, client, false);
        GenericRecord old = new GenericRecordBuilder(beforeMask).set("tokenizerFingerprint", "fp")
                .set("tokens", List.of(1, 2, 3)).set("documentIds", List.of("d"))
                .set("split", new org.apache.avro.generic.GenericData.EnumSymbol(
                        beforeMask.getField("split").schema(), "TRAIN")).build();
        byte[] bytes = AvroSerde.generic(client, false).serializer().serialize("windows", old);

        assertThat(client.isCompatible("windows-value", TrainingWindow.getClassSchema())).isTrue();
        TrainingWindow decoded = windows.deserializer().deserialize("windows", bytes);
        assertThat(decoded.getTokens()).containsExactly(1, 2, 3);
        assertThat(decoded.getLossMask()).isNull();
        assertThat(decoded.getLabel()).isNull();
    }

    @Test
    void recordsWrittenWithANewerSchemaReadIntoTheCurrentClassIgnoringNewFields() {
        Schema newer = new Schema.Parser().parse(Document.getClassSchema().toString()
                .replace("\"fields\":[", "\"fields\":[{\"name\":\"language\",\"type\":\"string\",\"default\":\"en\"},"));
        GenericRecordBuilder builder = new GenericRecordBuilder(newer).set("language", "de").set("id", "doc-new")
                .set("text", "Hallo").set("source", null).set("attributes", Map.of("k", "v"))
                .set("createdAt", 1_700_000_000_000L);
        documents.serializer().serialize(TOPIC, SampleRecords.document());
        byte[] bytes = AvroSerde.generic(client, false).serializer().serialize(TOPIC, builder.build());

        Document decoded = documents.deserializer().deserialize(TOPIC, bytes);

        assertThat(decoded).isEqualTo(Document.newBuilder().setId("doc-new").setText("Hallo")
                .setAttributes(Map.of("k", "v")).setCreatedAt(Instant.ofEpochMilli(1_700_000_000_000L)).build());
    }

    @Test
    void genericModeReadsWithTheWriterSchema() {
        byte[] bytes = documents.serializer().serialize(TOPIC, SampleRecords.document());

        GenericRecord record = AvroSerde.generic(client, false).deserializer().deserialize(TOPIC, bytes);

        assertThat(record.getSchema()).isEqualTo(Document.getClassSchema());
        assertThat(record.get("id")).hasToString("doc-0001");
        assertThat(record.get("createdAt")).isEqualTo(1_767_225_600_123L);
    }

    @Test
    void tombstonesStayNull() {
        assertThat(documents.serializer().serialize(TOPIC, null)).isNull();
        assertThat(documents.deserializer().deserialize(TOPIC, null)).isNull();
    }

    @Test
    void badBytesRaiseSerializationExceptionsNamingTopicAndReason() {
        byte[] good = documents.serializer().serialize(TOPIC, SampleRecords.document());
        byte[] wrongMagic = good.clone();
        wrongMagic[0] = 0x2a;
        byte[] unknownId = good.clone();
        unknownId[4] = 99;
        byte[] trailing = Arrays.copyOf(good, good.length + 3);
        byte[] hugeString = good.clone();
        // The length of the first field (id) becomes a 4-byte varint claiming about 16 MB.
        hugeString[5] = (byte) 0xfe;
        hugeString[6] = (byte) 0xff;
        hugeString[7] = (byte) 0xff;
        hugeString[8] = (byte) 0x0f;

        assertBad(new byte[0], "expected at least 5 bytes", "got 0");
        assertBad(new byte[] {0, 0, 0, 1}, "expected at least 5 bytes", "got 4");
        assertBad(wrongMagic, "unknown magic byte 0x2a");
        assertBad(unknownId, "unknown schema id 99");
        assertBad(Arrays.copyOf(good, good.length - 1), "truncated");
        assertBad(Arrays.copyOf(good, 5), "truncated");
        assertBad(trailing, "3 trailing bytes");
        assertBad(hugeString, "string length", "exceeds");
    }

    @Test
    void aCorruptArrayLengthFailsFastWithoutAllocatingIt() throws IOException {
        AvroSerde<TrainingWindow> windows = AvroSerde.specific(TrainingWindow.class, client, false);
        int id = client.register("training-windows-value", TrainingWindow.getClassSchema());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {0, 0, 0, 0, (byte) id});
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        encoder.writeString("sha256:9b5ad71b2ce5");
        encoder.writeArrayStart();
        encoder.setItemCount(1L << 30); // claims 2^30 tokens: 4+ GiB as an Integer[] on a 3 GiB heap
        encoder.startItem();
        encoder.writeInt(42);
        encoder.flush();
        byte[] bytes = out.toByteArray();

        assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
                assertThatThrownBy(() -> windows.deserializer().deserialize("training-windows", bytes))
                        .isInstanceOf(SerializationException.class)
                        .hasMessageContaining("training-windows")
                        .hasMessageContaining("claims 1073741824 items"));
    }

    @Test
    void anInvalidRecordFailsToSerializeNamingTheTopic() {
        Schema v1 = Document.getClassSchema();
        GenericRecord missingText = new org.apache.avro.generic.GenericData.Record(v1);
        missingText.put("id", "doc-x");

        assertThatThrownBy(() -> AvroSerde.generic(client, false).serializer().serialize(TOPIC, missingText))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'documents'");
    }

    @Test
    void idsBackedByAnIntArrayAreWrittenExactlyAsAvroWritesTheList() {
        int[] ids = new java.util.Random(3).ints(1_000, -5, 300_000).toArray();
        ids[0] = Integer.MIN_VALUE;
        ids[1] = Integer.MAX_VALUE;
        ids[2] = -1;
        ids[3] = 0;
        // either side of every varint length: zig-zag values 2^7, 2^14, 2^21 and 2^28
        int at = 4;
        for (int bits = 6; bits <= 27; bits += 7) {
            for (int id : new int[] {(1 << bits) - 1, 1 << bits, -(1 << bits), -(1 << bits) - 1}) {
                ids[at++] = id;
            }
        }
        TokenizedDocument fromArray = SampleRecords.tokenizedDocument();
        fromArray.setIds(IntLists.of(ids));
        TokenizedDocument fromList = SampleRecords.tokenizedDocument();
        fromList.setIds(Arrays.stream(ids).boxed().toList());
        AvroSerde<TokenizedDocument> serde = AvroSerde.specific(TokenizedDocument.class, client, false);

        byte[] bytes = serde.serializer().serialize("tokens", fromArray);

        assertThat(bytes).isEqualTo(serde.serializer().serialize("tokens", fromList));
        assertThat(serde.deserializer().deserialize("tokens", bytes).getIds()).containsExactly(
                Arrays.stream(ids).boxed().toArray(Integer[]::new));
    }

    @Test
    void eachRecordIsWrittenWholeWhateverTheThreadWroteBefore() throws IOException {
        // The serializer reuses one buffer per thread: a large record, a failed one and small ones in turn must each
        // come out as exactly their own bytes.
        Document large = new Document("large", "x".repeat(3 << 20), null, Map.of(), null);
        Document small = new Document("small", "a short text", null, Map.of("k", "v"), null);
        GenericRecord missingText = new org.apache.avro.generic.GenericData.Record(Document.getClassSchema());
        missingText.put("id", "doc-x");

        byte[] first = documents.serializer().serialize(TOPIC, small);
        byte[] big = documents.serializer().serialize(TOPIC, large);
        assertThatThrownBy(() -> AvroSerde.generic(client, false).serializer().serialize(TOPIC, missingText))
                .isInstanceOf(SerializationException.class);
        byte[] after = documents.serializer().serialize(TOPIC, small);

        assertThat(Arrays.copyOfRange(big, 5, big.length)).isEqualTo(plainAvro(large));
        assertThat(documents.deserializer().deserialize(TOPIC, big)).isEqualTo(large);
        assertThat(after).isEqualTo(first);
        assertThat(Arrays.copyOfRange(after, 5, after.length)).isEqualTo(plainAvro(small));
    }

    @Test
    void configuredByNameItDecodesIntoTheGeneratedClassOfTheWriterSchema() throws Exception {
        byte[] bytes = documents.serializer().serialize(TOPIC, SampleRecords.document());
        try (CannedRegistryServer server = new CannedRegistryServer()) {
            server.respond(r -> r.target().equals("/schemas/ids/1")
                    ? new CannedRegistryServer.Response(200, new com.fasterxml.jackson.databind.ObjectMapper()
                            .createObjectNode().put("schema", Document.getClassSchema().toString()).toString())
                    : new CannedRegistryServer.Response(404, "{\"error_code\":40403,\"message\":\"Schema not found\"}"));
            Map<String, Object> config = Map.of("schema.registry.url", server.url(), "specific.avro.reader", true);

            try (AvroDeserializer<Object> specific = new AvroDeserializer<>();
                    AvroDeserializer<Object> generic = new AvroDeserializer<>()) {
                specific.configure(config, false);
                generic.configure(Map.of("schema.registry.url", server.url()), false);

                assertThat(specific.deserialize(TOPIC, bytes)).isEqualTo(SampleRecords.document());
                assertThat(generic.deserialize(TOPIC, bytes)).isInstanceOf(GenericRecord.class)
                        .isNotInstanceOf(Document.class);
                bytes[4] = 2;
                assertThatThrownBy(() -> specific.deserialize(TOPIC, bytes))
                        .isInstanceOf(SerializationException.class).hasMessageContaining("unknown schema id 2");
            }
        }
    }

    @Test
    void oneSerdeServesManyThreads() {
        List<Document> docs = IntStream.range(0, 2_000).mapToObj(i -> Document.newBuilder().setId("doc-" + i)
                .setText("text " + i).setAttributes(Map.of("i", Integer.toString(i))).build()).toList();

        List<Document> decoded = docs.parallelStream()
                .map(d -> documents.deserializer().deserialize(TOPIC, documents.serializer().serialize(TOPIC, d)))
                .toList();

        assertThat(decoded).isEqualTo(docs);
        assertThat(client.versions("documents-value")).containsExactly(1);
    }

    private void assertBad(byte[] bytes, String... reasons) {
        assertThatThrownBy(() -> documents.deserializer().deserialize(TOPIC, bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'documents'")
                .hasMessageContainingAll(reasons);
    }

    @SuppressWarnings("unchecked")
    private <T extends SpecificRecord> AvroSerde<T> specificSerdeFor(T record) {
        return AvroSerde.specific((Class<T>) record.getClass(), client, false);
    }

    private static byte[] plainAvro(SpecificRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
