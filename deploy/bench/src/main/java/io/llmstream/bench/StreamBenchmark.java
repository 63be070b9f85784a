package io.llmstream.bench;

import io.llmstream.stream.ingest.DocumentProducer;
import io.llmstream.platform.TopicLayout;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.stream.StreamSettings;
import io.llmstream.stream.TokenizerStreamApp;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code llmstream bench stream}: the stream application end to end (real broker, exactly-once, one stream thread)
 * beside the bare tokenizer on the same documents in the same run (timed just before and just after the measured pass,
 * the better of the two counting). The documents are produced before the clock starts.
 * Warm-up passes on a quarter of them come first, until the JIT compilers have (nearly) finished: the broker, the
 * clients and Kafka Streams in one JVM are 15–20 s of C2 work, which on two cores would otherwise take most of a core
 * from the measured pass. The steady-state rate runs from the first commit to the last (start-up — group join,
 * producer fencing, the first fetch — is reported apart, as it does not grow with the input).
 */
public final class StreamBenchmark {
    /** The figures of one run. */
    public record Result(int documents, long bytes, double tokenizerMBps, double streamMBps, double streamDocsPerSecond,
                         double ratio, double streamSeconds, double startupSeconds, double streamThreadBusy,
                         double processCores, int warmupPasses, double compilerCores, double streamTokenizeShare,
                         double tokenizerAloneMicrosPerDocument, double streamTokenizeMicrosPerDocument,
                         double streamThreadMicrosPerDocument) {}

    /** Warm-up ends once the JIT takes less than this share of a core over a pass, or after the last pass allowed. */
    private static final double SETTLED_COMPILER_CORES = 0.1;
    private static final int MAX_WARMUP_PASSES = 8;

    /** Keeps the JIT from dropping the timed encodes as dead code. */
    private static volatile long tokensSeen;

    private StreamBenchmark() {}

    /** @param overrides stream-app settings applied last, to measure the effect of a setting (e.g. commit interval) */
    public static Result run(String bootstrap, String registryUrl, String tokenizerName, List<String> docs, Path stateDir,
                             Map<String, String> overrides) throws Exception {
        Tokenizer tokenizer = Tokenizers.load(tokenizerName);
        long bytes = BenchCorpus.utf8Bytes(docs);
        List<String> warmupDocs = docs.subList(0, Math.max(1, docs.size() / 4));
        int warmupPasses = 0;
        double compilerCores = Double.MAX_VALUE;
        while (compilerCores > SETTLED_COMPILER_CORES && warmupPasses < MAX_WARMUP_PASSES) {
            long compiling = compilerMillis();
            long t0 = System.nanoTime();
            pass(bootstrap, registryUrl, tokenizerName, warmupDocs, stateDir, overrides);
            compilerCores = (compilerMillis() - compiling) / ((System.nanoTime() - t0) / 1e6);
            warmupPasses++;
        }
        double tokenizerSeconds = timeTokenizer(tokenizer, docs);
        long started = System.nanoTime();
        Progress progress = pass(bootstrap, registryUrl, tokenizerName, docs, stateDir, overrides);
        // The VM's speed drifts by a third within a minute: the bare tokenizer is timed right before and right after the
        // measured pass, and its best time is the one the stream is compared with.
        tokenizerSeconds = Math.min(tokenizerSeconds, timeTokenizer(tokenizer, docs));
        double streamSeconds = (progress.lastNanos - progress.firstNanos) / 1e9;
        double steadyDocs = docs.size() - progress.firstCount;
        double tokenizerMBps = bytes / 1e6 / tokenizerSeconds;
        double streamMBps = bytes * (steadyDocs / docs.size()) / 1e6 / streamSeconds;
        double streamThreadSeconds = (progress.last.streamThreadNanos - progress.first.streamThreadNanos) / 1e9;
        double tokenizeSeconds = progress.last.tokenizeSeconds - progress.first.tokenizeSeconds;
        return new Result(docs.size(), bytes, tokenizerMBps, streamMBps, steadyDocs / streamSeconds,
                streamMBps / tokenizerMBps, streamSeconds, (progress.firstNanos - started) / 1e9,
                streamThreadSeconds / streamSeconds,
                (progress.last.processNanos - progress.first.processNanos) / 1e9 / streamSeconds,
                warmupPasses, (progress.last.compilerMillis - progress.first.compilerMillis) / 1e3 / streamSeconds,
                tokenizeSeconds / streamThreadSeconds, tokenizerSeconds * 1e6 / docs.size(),
                tokenizeSeconds * 1e6 / steadyDocs, streamThreadSeconds * 1e6 / steadyDocs);
    }

    /** Time the JIT compilers have spent so far, all threads together. */
    private static long compilerMillis() {
        return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    }

    /** One run of the app on fresh topics holding {@code docs}, until every document is committed. */
    private static Progress pass(String bootstrap, String registryUrl, String tokenizerName, List<String> docs,
                                 Path stateDir, Map<String, String> overrides) throws Exception {
        String prefix = "bench-" + System.nanoTime();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            TopicLayout.createMissing(admin, List.of("documents", "tokens", "windows", "dead-letters").stream()
                    .map(t -> new NewTopic(prefix + "-" + t, 1, (short) 1)).toList());
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
            try (TokenizerStreamApp app = TokenizerStreamApp.start(Settings.of(conf))) {
                return awaitCommitted(admin, app, prefix, new TopicPartition(prefix + "-documents", 0), docs.size());
            }
        }
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

    private static void produce(String bootstrap, String registryUrl, String topic, List<String> texts) {
        List<Document> docs = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            docs.add(new Document("bench-" + i, texts.get(i), null, Map.of(), null));
        }
        try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", registryUrl));
             KafkaProducer<String, Document> producer =
                     DocumentProducer.create(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), registry)) {
            DocumentProducer.sendAll(producer, topic, docs);
        }
    }

    /** When the first committed records were seen (and how many), and when the last was, with CPU use at both. */
    private record Progress(long firstNanos, long firstCount, long lastNanos, CpuUse first, CpuUse last) {}

    /**
     * CPU time so far of the stream threads, of the whole process (broker included) and of the JIT compilers, and the
     * app's own count of time spent tokenizing.
     */
    private record CpuUse(long streamThreadNanos, long processNanos, long compilerMillis, double tokenizeSeconds) {
        static CpuUse now(TokenizerStreamApp app) {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long stream = 0;
            for (ThreadInfo t : threads.dumpAllThreads(false, false)) {
                if (t.getThreadName().contains("StreamThread-")) {
                    stream += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
                }
            }
            long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
            return new CpuUse(stream, process, StreamBenchmark.compilerMillis(), app.metrics().tokenizeSeconds());
        }
    }

    /**
     * Watches the app's committed offset on its input: with exactly-once, a document's outputs are committed in the same
     * transaction as that offset. (A read_committed consumer of the outputs would spin here: while a transaction is
     * open its fetches return at once, empty, and it took a whole core from the app.)
     */
    private static Progress awaitCommitted(Admin admin, TokenizerStreamApp app, String group, TopicPartition input,
                                           int expected)
            throws Exception {
        long firstNanos = 0;
        long firstCount = 0;
        CpuUse first = null;
        long committed = 0;
        while (committed < expected) {
            Thread.sleep(5);
            OffsetAndMetadata at = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(input);
            committed = at == null ? 0 : at.offset();
            if (committed > 0 && first == null) {
                firstNanos = System.nanoTime();
                firstCount = committed;
                first = CpuUse.now(app);
            }
        }
        return new Progress(firstNanos, firstCount, System.nanoTime(), first, CpuUse.now(app));
    }
}
