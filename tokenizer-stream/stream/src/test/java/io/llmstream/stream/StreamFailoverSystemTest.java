package io.llmstream.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.platform.EmbeddedPlatform;
import io.llmstream.platform.KafkaCluster;
import io.llmstream.platform.testing.TestClients;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.TokenizedDocument;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19, scenario 1: two stream app processes on three broker processes, packed training windows on, 10,000
 * documents on 6 partitions (and a few undecodable records). Mid-run one instance is SIGKILLed and the broker leading
 * the most input partitions is killed -9; both come back. Read committed, every document is in {@code tokens} exactly
 * once, the windows equal what a fault-free run writes, the dead letters are exactly the undecodable records, and no
 * transaction is left open.
 */
class StreamFailoverSystemTest {
    private static final int DOCUMENTS = 10_000;
    private static final int BAD = 12;
    private static final int WINDOW = 16;
    private static final Tokenizer TOKENIZER = Tokenizers.load("cl100k_base");

    @TempDir
    Path state;

    @Test
    void aKilledInstanceAndAKilledBrokerLoseAndDuplicateNothing() throws Exception {
        try (EmbeddedPlatform platform = EmbeddedPlatform.builder().brokers(3).start();
             SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(
                     Map.of("schema.registry.url", platform.registryUrl()));
             Admin admin = Admin.create(Map.of("bootstrap.servers", platform.bootstrapServers()))) {
            KafkaCluster cluster = platform.cluster().orElseThrow();
            for (String t : List.of("documents", "tokens", "windows", "dead-letters")) {
                platform.kafka().createTopic(t, 6, Map.of());
            }
            Set<String> bad = produce(platform, registry);
            Map<String, String> conf = settings(platform);

            Path logs = Files.createDirectories(Path.of("target", "failover-logs"));
            Process a = TokenizerStreamSystemTest.startChild(conf(conf, "a"), logs.resolve("stream-a.log"));
            Process b = TokenizerStreamSystemTest.startChild(conf(conf, "b"), logs.resolve("stream-b.log"));
            long started = System.nanoTime();
            try {
                awaitTokens(platform, registry, DOCUMENTS / 5);
                int before = read(platform, "tokens", registry, TokenizedDocument.class).size();
                a.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no commit, no flush, no close
                int broker = busiestLeader(admin);
                cluster.kill(broker);
                cluster.awaitDown(broker);
                long faults = System.nanoTime();
                a = TokenizerStreamSystemTest.startChild(conf(conf, "a2"), logs.resolve("stream-a2.log"));
                cluster.start(broker);
                awaitTokens(platform, registry, DOCUMENTS);
                long recovered = System.nanoTime();
                System.out.printf("stream: %d documents (+%d undecodable) on 6 partitions, 2 instances; SIGKILL of one "
                        + "and kill -9 of broker %d after %d documents; all done %.1f s after the faults (%.1f s in "
                        + "all)%n", DOCUMENTS, BAD, broker, before, (recovered - faults) / 1e9,
                        (recovered - started) / 1e9);
            } finally {
                a.destroy();
                b.destroy();
                a.waitFor(60, TimeUnit.SECONDS);
                b.waitFor(60, TimeUnit.SECONDS);
            }

            List<ConsumerRecord<String, TokenizedDocument>> tokens = read(platform, "tokens", registry,
                    TokenizedDocument.class);
            List<ConsumerRecord<String, Document>> documents = documents(platform, registry);
            Map<String, String> texts = new HashMap<>();
            documents.forEach(d -> texts.put(d.key(), d.value().getText()));
            assertThat(tokens).extracting(ConsumerRecord::key).doesNotHaveDuplicates().hasSize(DOCUMENTS)
                    .containsExactlyInAnyOrderElementsOf(texts.keySet());
            for (ConsumerRecord<String, TokenizedDocument> r : tokens.subList(0, 500)) {
                assertThat(IntLists.toArray(r.value().getIds())).containsExactly(TOKENIZER.encode(texts.get(r.key())));
            }
            assertThat(PackedWindows.byPartition(read(platform, "windows", registry, TrainingWindow.class)))
                    .isEqualTo(PackedWindows.expected(documents, TOKENIZER, WINDOW, new SplitAssigner(0.1)));
            List<ConsumerRecord<byte[], byte[]>> letters = TestClients.readCommitted(platform.bootstrapServers(),
                    "dead-letters", new ByteArrayDeserializer(), new ByteArrayDeserializer());
            assertThat(letters.stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList())
                    .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(bad);
            assertThat(admin.listTransactions().all().get()).as("no transaction left open").allSatisfy(t ->
                    assertThat(t.state()).isNotIn(TransactionState.ONGOING, TransactionState.PREPARE_COMMIT,
                            TransactionState.PREPARE_ABORT));
        }
    }

    /** The documents, and among them {@link #BAD} undecodable records; returns the bad records' keys. */
    private static Set<String> produce(EmbeddedPlatform platform, SchemaRegistryClient registry) throws Exception {
        Random random = new Random(3);
        String[] words = {"stream", "token", "kafka", "model", "the", "of", "exactly", "once", "naïve", "東京", "🙂", "42"};
        AvroSerializer<Document> serializer = new AvroSerializer<>(registry, false);
        Set<String> bad = new java.util.HashSet<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 20), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < DOCUMENTS + BAD; i++) {
                boolean undecodable = i % ((DOCUMENTS + BAD) / BAD) == 7 && bad.size() < BAD;
                String id = (undecodable ? "bad-" : "doc-") + i;
                byte[] value;
                if (undecodable) {
                    bad.add(id);
                    value = new byte[] {0, 0, 0, 0, 99, (byte) i};
                } else {
                    StringBuilder text = new StringBuilder();
                    for (int w = 5 + random.nextInt(40); w > 0; w--) {
                        text.append(words[random.nextInt(words.length)]).append(' ');
                    }
                    value = serializer.serialize("documents", new Document(id, text.toString(), "test", Map.of(), null));
                }
                producer.send(new ProducerRecord<>("documents", id.getBytes(StandardCharsets.UTF_8), value));
            }
            producer.flush();
        }
        return bad;
    }

    private Map<String, String> settings(EmbeddedPlatform platform) {
        Map<String, String> s = new LinkedHashMap<>(StreamSettings.defaults());
        s.put("kafka.bootstrap.servers", platform.bootstrapServers());
        s.put("schema.registry.url", platform.registryUrl());
        s.put("kafka.application.id", "failover");
        s.put("ops.port", "-1");
        s.put("topic.windows", "windows");
        s.put("windows.length", Integer.toString(WINDOW));
        s.put("windows.mode", "packed");
        s.put("windows.validation.fraction", "0.1");
        s.put("kafka.commit.interval.ms", "100");
        return s;
    }

    /** Each instance its own state directory, as separate machines have. */
    private Map<String, String> conf(Map<String, String> base, String instance) {
        Map<String, String> s = new LinkedHashMap<>(base);
        s.put("kafka.state.dir", state.resolve(instance).toString());
        return s;
    }

    /** The broker leading the most partitions of the documents topic. */
    private static int busiestLeader(Admin admin) throws Exception {
        Map<Integer, Long> led = admin.describeTopics(List.of("documents")).allTopicNames().get().get("documents")
                .partitions().stream().map(TopicPartitionInfo::leader)
                .collect(Collectors.groupingBy(n -> n.id(), Collectors.counting()));
        return led.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    private static void awaitTokens(EmbeddedPlatform platform, SchemaRegistryClient registry, int count)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (read(platform, "tokens", registry, TokenizedDocument.class).size() < count) {
            assertThat(System.nanoTime()).as("%d tokenized documents", count).isLessThan(deadline);
            Thread.sleep(1_000);
        }
    }

    /** The decodable documents, as the stream app read them: partition, offset, key and value. */
    private static List<ConsumerRecord<String, Document>> documents(EmbeddedPlatform platform,
                                                                    SchemaRegistryClient registry) {
        AvroDeserializer<Document> avro = AvroDeserializer.specific(Document.class, registry);
        List<ConsumerRecord<String, Document>> documents = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TestClients.readCommitted(platform.bootstrapServers(), "documents",
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (!key.startsWith("bad-")) {
                documents.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), key,
                        avro.deserialize(r.topic(), r.value())));
            }
        }
        return documents;
    }

    private static <T extends SpecificRecord> List<ConsumerRecord<String, T>> read(
            EmbeddedPlatform platform, String topic, SchemaRegistryClient registry, Class<T> type) {
        return TestClients.readCommitted(platform.bootstrapServers(), topic, new StringDeserializer(),
                AvroDeserializer.specific(type, registry));
    }
}
