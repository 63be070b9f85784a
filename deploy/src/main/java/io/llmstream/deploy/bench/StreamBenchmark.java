package io.llmstream.deploy.bench;

import io.llmstream.ops.Settings;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.stream.StreamSettings;
import io.llmstream.stream.TokenizerStreamApp;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code llmstream bench stream}: the stream application end to end (real broker, exactly-once, one stream thread)
 * beside the bare tokenizer on the same documents in the same run. The documents are produced before the clock starts.
 * The steady-state rate runs from the first committed token record to the last (start-up — group join, producer
 * fencing, the first fetch — is reported apart, as it does not grow with the input).
 */
public final class StreamBenchmark {
    /** The figures of one run. */
    public record Result(int documents, long bytes, double tokenizerMBps, double streamMBps, double streamDocsPerSecond,
                         double ratio, double streamSeconds, double startupSeconds) {}

    /** Keeps the JIT from dropping the timed encodes as dead code. */
    private static volatile long tokensSeen;

    private StreamBenchmark() {}

    /** @param overrides stream-app settings applied last, to measure the effect of a setting (e.g. commit interval) */
    public static Result run(String bootstrap, String registryUrl, String tokenizerName, List<String> docs, Path stateDir,
                             Map<String, String> overrides) throws Exception {
        Tokenizer tokenizer = Tokenizers.load(tokenizerName);
        long bytes = BenchCorpus.utf8Bytes(docs);
        double tokenizerSeconds = timeTokenizer(tokenizer, docs);

        String prefix = "bench-" + System.currentTimeMillis();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of("documents", "tokens", "windows", "dead-letters").stream()
                    .map(t -> new NewTopic(prefix + "-" + t, 1, (short) 1)).toList()).all().get();
        }
        produce(bootstrap, registryUrl, prefix + "-documents", docs);

        Map<String, String> conf = new LinkedHashMap<>(StreamSettings.defaults());
        conf.put("tokenizer", tokenizerName);
        conf.put("kafka.bootstrap.servers", bootstrap);
        conf.put("schema.registry.url", registryUrl);
        conf.put("kafka.application.id", prefix);
        conf.put("kafka.state.dir", stateDir.toString());
        conf.put("ops.port", "-1");
        conf.put("topic.documents", prefix + "-documents");
        conf.put("topic.tokens", prefix + "-tokens");
        conf.put("topic.windows", prefix + "-windows");
        conf.put("topic.dead-letters", prefix + "-dead-letters");
        conf.putAll(overrides);
        Progress progress;
        long started = System.nanoTime();
        try (TokenizerStreamApp app = TokenizerStreamApp.start(Settings.of(conf))) {
            progress = awaitCommitted(bootstrap, prefix + "-tokens", docs.size());
        }
        double streamSeconds = (progress.lastNanos - progress.firstNanos) / 1e9;
        double steadyDocs = docs.size() - progress.firstCount;
        double tokenizerMBps = bytes / 1e6 / tokenizerSeconds;
        double streamMBps = bytes * (steadyDocs / docs.size()) / 1e6 / streamSeconds;
        return new Result(docs.size(), bytes, tokenizerMBps, streamMBps, steadyDocs / streamSeconds,
                streamMBps / tokenizerMBps, streamSeconds, (progress.firstNanos - started) / 1e9);
    }

    /** Best of three timed passes after a warm-up pass, single thread. */
    private static double timeTokenizer(Tokenizer tokenizer, List<String> docs) {
        long tokens = 0;
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 4; round++) {
            long t0 = System.nanoTime();
            for (String d : docs) {
                tokens += tokenizer.encode(d).length;
            }
            double s = (System.nanoTime() - t0) / 1e9;
            if (round > 0) {
                best = Math.min(best, s);
            }
        }
        tokensSeen = tokens;
        return best;
    }

    private static void produce(String bootstrap, String registryUrl, String topic, List<String> docs) {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.ACKS_CONFIG, "all");
        try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", registryUrl));
             KafkaProducer<String, Document> producer =
                     new KafkaProducer<>(config, new StringSerializer(), new AvroSerializer<>(registry, false))) {
            for (int i = 0; i < docs.size(); i++) {
                String id = "bench-" + i;
                producer.send(new ProducerRecord<>(topic, id, new Document(id, docs.get(i), null, Map.of(), null)));
            }
        }
    }

    /** When the first committed records were seen (and how many), and when the last was. */
    private record Progress(long firstNanos, long firstCount, long lastNanos) {}

    /** Counts committed records until {@code expected}; a read_committed consumer sees them only after the commit. */
    private static Progress awaitCommitted(String bootstrap, String topic, int expected) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long seen = 0;
            long firstNanos = 0;
            long firstCount = 0;
            while (seen < expected) {
                int n = consumer.poll(Duration.ofMillis(20)).count();
                if (n > 0 && seen == 0) {
                    firstNanos = System.nanoTime();
                    firstCount = n;
                }
                seen += n;
            }
            return new Progress(firstNanos, firstCount, System.nanoTime());
        }
    }
}
