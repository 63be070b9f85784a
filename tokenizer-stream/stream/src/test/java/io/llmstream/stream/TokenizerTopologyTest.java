package io.llmstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.llmstream.ops.Settings;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.InferenceRequest;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.Split;
import io.llmstream.schemas.Task;
import io.llmstream.schemas.TokenizedDocument;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.registry.InMemorySchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerde;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TokenizerTopologyTest {
    private static final Tokenizer TOKENIZER = Tokenizers.load("cl100k_base");

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private TopologyTestDriver driver;
    private StreamMetrics metrics;
    private TestInputTopic<String, Document> documents;
    private TestInputTopic<String, byte[]> rawDocuments;

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
            driver = null;
        }
    }

    private void start(String... overrides) {
        Map<String, String> values = new HashMap<>(StreamSettings.defaults());
        values.put("kafka.application.id", "topology-test");
        values.put("kafka.bootstrap.servers", "unused:9092");
        for (String o : overrides) {
            int eq = o.indexOf('=');
            values.put(o.substring(0, eq), o.substring(eq + 1));
        }
        StreamSettings settings = StreamSettings.from(Settings.of(values));
        metrics = new StreamMetrics(new SimpleMeterRegistry());
        Properties props = TokenizerStreamApp.streamsConfig(settings, metrics);
        props.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/llmstream-ttd-" + System.nanoTime());
        driver = new TopologyTestDriver(TokenizerTopology.build(settings, TOKENIZER, registry, metrics), props);
        documents = driver.createInputTopic("documents", Serdes.String().serializer(),
                AvroSerde.specific(Document.class, registry, false).serializer());
        rawDocuments = driver.createInputTopic("documents", Serdes.String().serializer(), Serdes.ByteArray().serializer());
    }

    private <T extends org.apache.avro.specific.SpecificRecord> TestOutputTopic<String, T> output(String topic, Class<T> type) {
        return driver.createOutputTopic(topic, Serdes.String().deserializer(),
                AvroSerde.specific(type, registry, false).deserializer());
    }

    private static Document doc(String id, String text) {
        return Document.newBuilder().setId(id).setText(text).setSource(null).setAttributes(Map.of()).setCreatedAt(null).build();
    }

    private void send(String id, String text) {
        documents.pipeInput(id, doc(id, text));
    }

    @Test
    void everyDocumentBecomesOneTokenizedDocumentWithTheTokenizersIds() {
        start("windows.enabled=false");
        List<String> texts = List.of("Hello, world!", "Kafka streams tokenize text.\n\nTwice.", "naïve café — 東京 🙂");
        for (int i = 0; i < texts.size(); i++) {
            send("doc-" + i, texts.get(i));
        }
        List<TestRecord<String, TokenizedDocument>> out = output("tokens", TokenizedDocument.class).readRecordsToList();
        assertThat(out).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            TokenizedDocument td = out.get(i).value();
            assertThat(out.get(i).key()).isEqualTo("doc-" + i);
            assertThat(IntLists.toArray(td.getIds())).containsExactly(TOKENIZER.encode(texts.get(i)));
            assertThat(td.getTokenizer().getFingerprint()).isEqualTo(TOKENIZER.fingerprint());
            assertThat(td.getCharCount()).isEqualTo(texts.get(i).length());
            assertThat(td.getByteCount()).isEqualTo(texts.get(i).getBytes(StandardCharsets.UTF_8).length);
        }
        assertThat(metrics.documents.count()).isEqualTo(3);
    }

    @Test
    void loneSurrogatesAreTokenizedAsReplacementCharacterNotRefused() {
        start("windows.enabled=false");
        send("s", "a\uD800b");
        TokenizedDocument td = output("tokens", TokenizedDocument.class).readValue();
        assertThat(IntLists.toArray(td.getIds())).containsExactly(TOKENIZER.encode("a\uFFFDb"));
        assertThat(td.getByteCount()).isEqualTo(5);
        assertThat(output("dead-letters", TokenizedDocument.class).isEmpty()).isTrue();
    }

    @Test
    void perDocumentWindowsAreShiftedByOneAndFollowTheStride() {
        start("windows.length=8", "windows.stride=4", "windows.validation.fraction=0");
        String text = IntStream.range(0, 60).mapToObj(i -> "w" + i).reduce((a, b) -> a + " " + b).orElseThrow();
        send("long", text);
        int[] ids = TOKENIZER.encode(text);
        List<TrainingWindow> windows = output("training-windows", TrainingWindow.class).readValuesToList();
        assertThat(windows).hasSize((ids.length - 9) / 4 + 1);
        for (int w = 0; w < windows.size(); w++) {
            int[] tokens = IntLists.toArray(windows.get(w).getTokens());
            assertThat(tokens).hasSize(9).containsExactly(Arrays.copyOfRange(ids, w * 4, w * 4 + 9));
            int[] input = Arrays.copyOfRange(tokens, 0, 8);
            int[] target = Arrays.copyOfRange(tokens, 1, 9);
            for (int i = 0; i < 7; i++) {
                assertThat(target[i]).isEqualTo(input[i + 1]);
            }
            assertThat(windows.get(w).getDocumentIds()).containsExactly("long");
            assertThat(windows.get(w).getSplit()).isEqualTo(Split.TRAIN);
            assertThat(windows.get(w).getTokenizerFingerprint()).isEqualTo(TOKENIZER.fingerprint());
        }
    }

    @Test
    void anInstructionDocumentBecomesOneWindowTrainedOnItsResponseOnly() {
        start("windows.length=16", "windows.validation.fraction=0", "requests.template={text} =",
                "windows.response.attribute=response");
        documents.pipeInput("ex", Document.newBuilder(doc("ex", "reverse a b c"))
                .setAttributes(Map.of("response", " c b a")).build());
        String plain = IntStream.range(0, 30).mapToObj(i -> "w" + i).reduce((a, b) -> a + " " + b).orElseThrow();
        send("plain", plain);

        int eos = TOKENIZER.specialTokenId("<|endoftext|>").orElseThrow();
        int[] prompt = TOKENIZER.encode("reverse a b c =");
        int[] reply = TOKENIZER.encode(" c b a");
        int[] expected = new int[17];
        Arrays.fill(expected, eos);
        System.arraycopy(prompt, 0, expected, 0, prompt.length);
        System.arraycopy(reply, 0, expected, prompt.length, reply.length); // then eos ends it, eos pads
        List<Boolean> mask = new ArrayList<>();
        for (int target = 1; target <= 16; target++) {
            mask.add(target >= prompt.length && target <= prompt.length + reply.length);
        }
        Map<String, List<TrainingWindow>> byDocument = new HashMap<>();
        for (TestRecord<String, TrainingWindow> r : output("training-windows", TrainingWindow.class).readRecordsToList()) {
            byDocument.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
        }
        TrainingWindow window = byDocument.get("ex").get(0);
        assertThat(byDocument.get("ex")).hasSize(1);
        assertThat(IntLists.toArray(window.getTokens())).containsExactly(expected);
        assertThat(window.getLossMask()).containsExactlyElementsOf(mask);
        assertThat(window.getDocumentIds()).containsExactly("ex");
        assertThat(byDocument.get("plain")).isNotEmpty().allSatisfy(w -> assertThat(w.getLossMask()).isNull());
        // the tokens topic still carries every document's own text
        Map<String, int[]> tokens = new HashMap<>();
        output("tokens", TokenizedDocument.class).readRecordsToList()
                .forEach(r -> tokens.put(r.key(), IntLists.toArray(r.value().getIds())));
        assertThat(tokens.get("ex")).containsExactly(TOKENIZER.encode("reverse a b c"));
        assertThat(tokens.get("plain")).containsExactly(TOKENIZER.encode(plain));
    }

    @Test
    void aLongInstructionKeepsRoomForItsResponseAndWithoutTheSettingIsPlainText() {
        String longPrompt = IntStream.range(0, 40).mapToObj(i -> "w" + i).reduce((a, b) -> a + " " + b).orElseThrow();
        Document example = Document.newBuilder(doc("long", longPrompt)).setAttributes(Map.of("response", " yes")).build();
        start("windows.length=8", "windows.validation.fraction=0", "requests.template={text}",
                "windows.response.attribute=response");
        documents.pipeInput("long", example);
        TrainingWindow window = output("training-windows", TrainingWindow.class).readValue();
        assertThat(window.getTokens()).hasSize(9);
        assertThat(window.getLossMask()).hasSize(8).contains(true); // the prompt was cut to 7 ids at most
        assertThat(TOKENIZER.decode(IntLists.toArray(window.getTokens()))).contains("w39"); // cut on the left
        close();

        start("windows.length=8", "windows.validation.fraction=0");
        documents.pipeInput("long", example);
        assertThat(output("training-windows", TrainingWindow.class).readValuesToList()).isNotEmpty()
                .allSatisfy(w -> assertThat(w.getLossMask()).isNull());
    }

    @Test
    void aLabelledDocumentBecomesOneWindowFlaggingItsRequestPromptsLastPosition() {
        start("windows.length=32", "windows.validation.fraction=0", "requests.enabled=true", "requests.template=classify",
                "requests.labels=spam,ham", "windows.label.attribute=label", "windows.response.attribute=response");
        // the label wins over a response; a long text is cut as its CLASSIFY request's prompt is
        documents.pipeInput("mail", Document.newBuilder(doc("mail", "win a free cruise now"))
                .setAttributes(Map.of("label", "spam", "response", "ignored")).build());
        String longText = IntStream.range(0, 60).mapToObj(i -> "w" + i).reduce((a, b) -> a + " " + b).orElseThrow();
        documents.pipeInput("long", Document.newBuilder(doc("long", longText)).setAttributes(Map.of("label", "ham")).build());

        Map<String, TrainingWindow> windows = new HashMap<>();
        output("training-windows", TrainingWindow.class).readRecordsToList().forEach(r -> windows.put(r.key(), r.value()));
        Map<String, int[]> prompts = new HashMap<>();
        output("inference-requests", InferenceRequest.class).readRecordsToList()
                .forEach(r -> prompts.put(r.key(), IntLists.toArray(r.value().getPromptIds())));
        assertThat(windows).containsOnlyKeys("mail", "long");

        int eos = TOKENIZER.specialTokenId("<|endoftext|>").orElseThrow();
        TrainingWindow mail = windows.get("mail");
        int[] prompt = prompts.get("mail");
        int[] expected = new int[33];
        Arrays.fill(expected, eos);
        System.arraycopy(prompt, 0, expected, 0, prompt.length);
        assertThat(IntLists.toArray(mail.getTokens())).containsExactly(expected);
        assertThat(mail.getLabel()).isEqualTo("spam");
        assertThat(mail.getLossMask()).hasSize(32).containsOnlyOnce(true);
        assertThat(mail.getLossMask().indexOf(true)).isEqualTo(prompt.length - 1);

        TrainingWindow cut = windows.get("long");
        assertThat(cut.getLabel()).isEqualTo("ham");
        assertThat(cut.getLossMask().indexOf(true)).as("a full window").isEqualTo(31);
        assertThat(TOKENIZER.decode(Arrays.copyOf(IntLists.toArray(cut.getTokens()), 32))).endsWith("Label:");
    }

    @Test
    void shortTailIsDroppedOrPadded() {
        String text = "one two three four five six seven";
        int[] ids = TOKENIZER.encode(text);
        assertThat(ids.length).isBetween(6, 8);
        start("windows.length=4", "windows.tail=drop");
        send("d", text);
        assertThat(output("training-windows", TrainingWindow.class).readValuesToList()).hasSize(1);
        close();
        start("windows.length=4", "windows.tail=pad");
        send("d", text);
        List<TrainingWindow> padded = output("training-windows", TrainingWindow.class).readValuesToList();
        assertThat(padded).hasSize(2);
        int[] last = IntLists.toArray(padded.get(1).getTokens());
        int eos = TOKENIZER.specialTokenId("<|endoftext|>").orElseThrow();
        assertThat(last).startsWith(Arrays.copyOfRange(ids, 4, ids.length));
        assertThat(last[last.length - 1]).isEqualTo(eos);
    }

    @Test
    void packedWindowsJoinDocumentsWithEosAndWasteNothing() {
        start("windows.length=8", "windows.mode=packed", "windows.validation.fraction=0");
        List<String> texts = List.of("alpha beta gamma", "delta epsilon zeta eta", "theta iota kappa lambda mu", "nu xi");
        int eos = TOKENIZER.specialTokenId("<|endoftext|>").orElseThrow();
        List<Integer> stream = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            send("p" + i, texts.get(i));
            for (int id : TOKENIZER.encode(texts.get(i))) {
                stream.add(id);
            }
            stream.add(eos);
        }
        List<TrainingWindow> windows = output("training-windows", TrainingWindow.class).readValuesToList();
        assertThat(windows).hasSize((stream.size() - 9) / 8 + 1);
        for (int w = 0; w < windows.size(); w++) {
            assertThat(windows.get(w).getTokens()).containsExactlyElementsOf(stream.subList(w * 8, w * 8 + 9));
        }
        assertThat(windows.get(0).getDocumentIds()).contains("p0", "p1");
        // The rest waits in the state store for the next document.
        byte[] pending = driver.<String, byte[]>getKeyValueStore(TokenizerTopology.PACKING_STORE).get("TRAIN");
        assertThat(PackingBuffer.fromBytes(pending).size()).isEqualTo(stream.size() - windows.size() * 8);
    }

    @Test
    void splitIsStablePerDocumentAndFollowsTheFraction() {
        SplitAssigner splits = new SplitAssigner(0.2);
        long validation = IntStream.range(0, 5000).filter(i -> splits.isValidation("doc-" + i)).count();
        assertThat(validation).isBetween(850L, 1150L);
        for (int i = 0; i < 100; i++) {
            assertThat(splits.isValidation("doc-" + i)).isEqualTo(new SplitAssigner(0.2).isValidation("doc-" + i));
        }
        start("windows.length=2", "windows.validation.fraction=0.5");
        for (int i = 0; i < 40; i++) {
            send("doc-" + i, "some words here and more words there");
        }
        for (TrainingWindow w : output("training-windows", TrainingWindow.class).readValuesToList()) {
            boolean validationDoc = new SplitAssigner(0.5).isValidation(w.getDocumentIds().get(0));
            assertThat(w.getSplit()).isEqualTo(validationDoc ? Split.VALIDATION : Split.TRAIN);
        }
    }

    @Test
    void requestsApplyTheTemplateAndCutTheTextOnTheConfiguredSide() {
        start("windows.enabled=false", "requests.enabled=true", "requests.template=Q: {text}\nA:",
                "requests.max.prompt.tokens=12", "requests.max.new.tokens=5");
        send("short", "two plus two");
        String longText = IntStream.range(0, 40).mapToObj(i -> "x" + i).reduce((a, b) -> a + " " + b).orElseThrow();
        send("long", longText);
        List<InferenceRequest> requests = output("inference-requests", InferenceRequest.class).readValuesToList();
        assertThat(requests).hasSize(2);
        assertThat(IntLists.toArray(requests.get(0).getPromptIds())).containsExactly(TOKENIZER.encode("Q: two plus two\nA:"));
        assertThat(requests.get(0).getTask()).isEqualTo(Task.GENERATE);
        assertThat(requests.get(0).getParams().getMaxNewTokens()).isEqualTo(5);
        assertThat(requests.get(0).getTokenizerFingerprint()).isEqualTo(TOKENIZER.fingerprint());
        int[] cut = IntLists.toArray(requests.get(1).getPromptIds());
        assertThat(cut).hasSize(12);
        String decoded = TOKENIZER.decode(cut);
        assertThat(decoded).startsWith("Q:").endsWith(" x39\nA:").doesNotContain(" x0 ");
    }

    @Test
    void classifyTemplateCarriesTheLabels() {
        start("windows.enabled=false", "requests.enabled=true", "requests.template=classify",
                "requests.labels=positive,negative");
        send("c", "I loved it");
        InferenceRequest r = output("inference-requests", InferenceRequest.class).readValue();
        assertThat(r.getTask()).isEqualTo(Task.CLASSIFY);
        assertThat(r.getLabels()).containsExactly("positive", "negative");
        assertThat(TOKENIZER.decode(IntLists.toArray(r.getPromptIds()))).contains("positive, negative").contains("I loved it");
    }

    @Test
    void requestsTaskMakesAnyTemplateClassifyAndWithoutLabelsLeavesThemToTheModelsHead() {
        start("windows.enabled=false", "requests.enabled=true", "requests.template={text} ?", "requests.task=classify");
        send("c", "k q a z");
        InferenceRequest r = output("inference-requests", InferenceRequest.class).readValue();
        assertThat(r.getTask()).isEqualTo(Task.CLASSIFY);
        assertThat(r.getLabels()).as("the head's labels, at the worker").isNull();
        assertThat(TOKENIZER.decode(IntLists.toArray(r.getPromptIds()))).isEqualTo("k q a z ?");
        close();

        start("windows.enabled=false", "requests.enabled=true", "requests.template=classify", "requests.task=generate");
        send("g", "I loved it");
        assertThat(output("inference-requests", InferenceRequest.class).readValue().getTask()).isEqualTo(Task.GENERATE);
        close();

        assertThatThrownBy(() -> start("requests.task=summarise"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(
                        "setting 'requests.task' must be generate or classify (or empty), got 'summarise'");
    }

    @Test
    void refusedDocumentsGoToDeadLettersWithTheReasonAndNothingElse() {
        start("max.document.bytes=100", "empty.text=dead-letter", "requests.enabled=true");
        send("big", "x".repeat(101));
        send("empty", "");
        rawDocuments.pipeInput("null-value", (byte[]) null);
        send("good", "fine text");

        List<TestRecord<byte[], byte[]>> dead = driver.createOutputTopic("dead-letters",
                Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer()).readRecordsToList();
        assertThat(dead).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                .containsExactly("big", "empty", "null-value");
        assertThat(header(dead.get(0), "message")).contains("big").contains("max.document.bytes=100").contains("documents-0@0");
        assertThat(header(dead.get(0), "topic")).isEqualTo("documents");
        assertThat(header(dead.get(0), "offset")).isEqualTo("0");
        assertThat(header(dead.get(1), "message")).contains("empty text");
        // The dead letter keeps the original bytes, so the document can be replayed after a fix.
        assertThat(AvroSerde.specific(Document.class, registry, false).deserializer()
                .deserialize("documents", dead.get(0).value()).getText()).hasSize(101);
        assertThat(output("tokens", TokenizedDocument.class).readKeyValuesToList()).extracting(kv -> kv.key)
                .containsExactly("good");
        assertThat(output("inference-requests", InferenceRequest.class).readKeyValuesToList()).extracting(kv -> kv.key)
                .containsExactly("good");
        assertThat(metrics.deadLetterCount()).isEqualTo(3);
    }

    @Test
    void bytesThatAreNotAvroAreSkippedAndCounted() {
        // Their dead letter is checked against a real broker in the deploy module's stream integration test.
        start();
        rawDocuments.pipeInput("garbage", "not avro at all".getBytes(StandardCharsets.UTF_8));
        send("good", "fine text");
        assertThat(output("tokens", TokenizedDocument.class).readKeyValuesToList()).extracting(kv -> kv.key)
                .containsExactly("good");
        assertThat(metrics.deadLetterCount()).isEqualTo(1);
    }

    @Test
    void emptyTextIsSkippedAndCountedByDefault() {
        start();
        send("empty", "");
        assertThat(output("tokens", TokenizedDocument.class).isEmpty()).isTrue();
        assertThat(driver.createOutputTopic("dead-letters", Serdes.ByteArray().deserializer(),
                Serdes.ByteArray().deserializer()).isEmpty()).isTrue();
        assertThat(metrics.emptyDocuments.count()).isEqualTo(1);
    }

    private static String header(TestRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader("__streams.errors." + name);
        return h == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
    }
}
