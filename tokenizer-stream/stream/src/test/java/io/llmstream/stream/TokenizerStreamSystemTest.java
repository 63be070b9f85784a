package io.llmstream.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.platform.JavaProcess;
import io.llmstream.platform.testing.TestClients;
import io.llmstream.platform.testing.TestPlatform;
import io.llmstream.ops.ComponentArgs;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.TokenizedDocument;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.stream.SplitAssigner;
import io.llmstream.stream.StreamSettings;
import io.llmstream.stream.TokenizerStreamApp;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream application on a real broker and registry: every document lands exactly once in {@code tokens}, bad bytes
 * in {@code dead-letters}, and an abrupt kill mid-stream (SIGKILL of a child JVM) changes nothing a read_committed
 * reader sees.
 */
class TokenizerStreamSystemTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Tokenizer TOKENIZER = Tokenizers.load("cl100k_base");

    private static TestPlatform platform;
    private static SchemaRegistryClient registry;

    @BeforeAll
    static void startPlatform() {
        platform = TestPlatform.start();
        registry = HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", platform.registryUrl()));
    }

    @AfterAll
    static void stopPlatform() {
        registry.close();
        platform.close();
    }

    private static Map<String, String> settings(String prefix, Path stateDir, String... extra) {
        Map<String, String> s = new LinkedHashMap<>(StreamSettings.defaults());
        s.put("kafka.bootstrap.servers", platform.bootstrapServers());
        s.put("schema.registry.url", platform.registryUrl());
        s.put("kafka.application.id", prefix + "-app");
        s.put("kafka.state.dir", stateDir.toString());
        s.put("ops.port", "-1");
        for (String topic : List.of("documents", "tokens", "dead-letters")) {
            s.put("topic." + topic, prefix + "-" + topic);
        }
        s.put("topic.windows", prefix + "-windows");
        for (String e : extra) {
            s.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        return s;
    }

    private static void createTopics(String prefix, int partitions) {
        for (String t : List.of("documents", "tokens", "windows", "dead-letters")) {
            platform.createTopic(prefix + "-" + t, partitions);
        }
    }

    private static Map<String, String> produceDocuments(String topic, int n, long seed) {
        Random random = new Random(seed);
        String[] words = {"stream", "token", "kafka", "model", "the", "of", "exactly", "once", "naïve", "東京", "🙂", "42"};
        Map<String, String> texts = new LinkedHashMap<>();
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, Document> producer =
                     new KafkaProducer<>(config, new StringSerializer(), new AvroSerializer<>(registry, false))) {
            for (int i = 0; i < n; i++) {
                StringBuilder text = new StringBuilder();
                for (int w = 5 + random.nextInt(60); w > 0; w--) {
                    text.append(words[random.nextInt(words.length)]).append(random.nextInt(8) == 0 ? ".\n" : " ");
                }
                String id = "doc-" + seed + "-" + i;
                texts.put(id, text.toString());
                producer.send(new ProducerRecord<>(topic, id, new Document(id, text.toString(), "test", Map.of(), null)));
            }
        }
        return texts;
    }

    private static <T extends SpecificRecord> List<ConsumerRecord<String, T>> readCommitted(String topic, Class<T> type) {
        return read(topic, new StringDeserializer(), AvroDeserializer.specific(type, registry));
    }

    private static List<ConsumerRecord<byte[], byte[]>> readRaw(String topic) {
        return read(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static <K, V> List<ConsumerRecord<K, V>> read(String topic, Deserializer<K> keys, Deserializer<V> values) {
        return TestClients.readCommitted(platform.bootstrapServers(), topic, keys, values);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        TestClients.await(what, WAIT, condition);
    }

    @Test
    void everyDocumentIsTokenizedOnceAndBadBytesAreDeadLettered(@TempDir Path state) throws Exception {
        String p = "plain";
        createTopics(p, 2);
        Map<String, String> texts = produceDocuments(p + "-documents", 150, 1);
        Map<String, Object> raw = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(raw, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(p + "-documents", "garbage".getBytes(StandardCharsets.UTF_8),
                    new byte[] {0, 0, 0, 0, 99, 1, 2})).get();
        }
        try (TokenizerStreamApp app = TokenizerStreamApp.start(Settings.of(settings(p, state, "ops.port=0")))) {
            await("150 tokenized documents", () -> readCommitted(p + "-tokens", TokenizedDocument.class).size() >= 150);
            await("a dead letter", () -> countRaw(p + "-dead-letters") >= 1);

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + app.opsPort() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"UP\"").contains("RUNNING");
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.opsPort() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("llmstream_stream_documents_total 150.0")
                    .contains("llmstream_stream_dead_letters_total 1.0")
                    .contains("llmstream_stream_tokenize_latency_seconds")
                    .contains("kafka_stream");
        }
        List<ConsumerRecord<String, TokenizedDocument>> tokens = readCommitted(p + "-tokens", TokenizedDocument.class);
        assertThat(tokens).hasSize(150);
        for (ConsumerRecord<String, TokenizedDocument> r : tokens) {
            assertThat(IntLists.toArray(r.value().getIds())).containsExactly(TOKENIZER.encode(texts.get(r.key())));
        }
        assertThat(countRaw(p + "-dead-letters")).isEqualTo(1);
        assertThat(new String(readRaw(p + "-dead-letters").get(0).headers().lastHeader("__streams.errors.message").value(),
                StandardCharsets.UTF_8)).contains("unknown schema id").contains("99");
    }

    @Test
    void anAbruptKillMidStreamLosesAndDuplicatesNothing(@TempDir Path state) throws Exception {
        String p = "crash";
        createTopics(p, 2);
        Map<String, String> texts = produceDocuments(p + "-documents", 3000, 2);
        Map<String, String> conf = settings(p, state, "windows.length=16", "windows.mode=packed",
                "windows.validation.fraction=0.2", "kafka.commit.interval.ms=50");

        Process child = startChild(conf, state.resolve("child.log"));
        try {
            await("first committed tokens", () -> !readCommitted(p + "-tokens", TokenizedDocument.class).isEmpty());
        } finally {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no commit, no flush, no close
        }
        int before = readCommitted(p + "-tokens", TokenizedDocument.class).size();
        assertThat(before).as("the kill came mid-stream").isLessThan(3000);

        try (TokenizerStreamApp app = TokenizerStreamApp.start(Settings.of(conf))) {
            await("all 3000 documents", () -> readCommitted(p + "-tokens", TokenizedDocument.class).size() >= 3000);
        }
        List<ConsumerRecord<String, TokenizedDocument>> tokens = readCommitted(p + "-tokens", TokenizedDocument.class);
        assertThat(tokens).extracting(ConsumerRecord::key).doesNotHaveDuplicates().hasSize(3000)
                .containsExactlyInAnyOrderElementsOf(texts.keySet());
        assertThat(PackedWindows.byPartition(readCommitted(p + "-windows", TrainingWindow.class))).isEqualTo(
                PackedWindows.expected(readCommitted(p + "-documents", Document.class), TOKENIZER, 16,
                        new SplitAssigner(0.2)));
    }

    /** The stream app in its own JVM, started through its container entry point, so it can be killed for real. */
    static Process startChild(Map<String, String> conf, Path log) throws Exception {
        return JavaProcess.start(TokenizerStreamApp.class, List.of("-Xmx1g"), ComponentArgs.of(conf), log);
    }

    private static long countRaw(String topic) {
        return readRaw(topic).size();
    }
}
