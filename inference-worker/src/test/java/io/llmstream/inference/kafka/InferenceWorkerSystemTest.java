package io.llmstream.inference.kafka;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.engine.Generator;
import io.llmstream.inference.InferenceWorkerApp;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.inference.engine.Sampling;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.llmstream.platform.JavaProcess;
import io.llmstream.platform.testing.TestClients;
import io.llmstream.platform.testing.TestPlatform;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.FinishReason;
import io.llmstream.schemas.GenerationParams;
import io.llmstream.schemas.InferenceRequest;
import io.llmstream.schemas.InferenceResult;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.ResultStatus;
import io.llmstream.schemas.Task;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.NamedParameter;
import io.llmstream.trainer.Gpt;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.ModelArtifactWriter;
import io.llmstream.trainer.kafka.ModelPublisher;
import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
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
 * The inference worker on a real broker and registry: one result per request, bad requests answered with errors and
 * undecodable ones dead-lettered, nothing lost or doubled by a SIGKILL mid-batch or by a model published under load.
 */
class InferenceWorkerSystemTest {
    private static final Duration WAIT = Duration.ofSeconds(180);
    private static final Tokenizer R50K = Tokenizers.load("r50k_base");
    private static final int CONTEXT = 64;

    @TempDir
    static Path models;
    private static TestPlatform platform;
    private static SchemaRegistryClient registry;
    private static Path v1;
    private static Path v2;

    @BeforeAll
    static void start() throws IOException {
        platform = TestPlatform.start();
        registry = HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", platform.registryUrl()));
        v1 = export("tiny", "1", 1);
        v2 = export("tiny", "2", 2);
    }

    @AfterAll
    static void stop() {
        registry.close();
        platform.close();
    }

    /** A one-layer decoder over r50k_base (a built-in encoding: no tokenizer.json) with random order-one weights. */
    private static Path export(String name, String version, long seed) throws IOException {
        Path dir = models.resolve(name).resolve(version);
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt model = Gpt.create(new GptConfig(R50K.vocabSize(), CONTEXT, 1, 2, 32, 64, 0f, true), manager, seed);
            for (NamedParameter p : model.namedParameters()) {
                NDArray w = p.parameter().getArray();
                w.addi(manager.randomNormal(0f, 0.3f, w.getShape(), w.getDataType())); // logits far apart: no ties
            }
            int eos = R50K.specialTokenId("<|endoftext|>").orElseThrow();
            ModelArtifactWriter.write(model, new ModelArtifactWriter.ModelInfo(name, version,
                    new ModelManifest.SpecialTokens(-1, eos, eos), "r50k_base", R50K.fingerprint(), Map.of()), null, dir);
        }
        return dir;
    }

    private static Map<String, String> settings(String prefix, String... extra) {
        Map<String, String> s = new LinkedHashMap<>(WorkerSettings.defaults());
        s.put("kafka.bootstrap.servers", platform.bootstrapServers());
        s.put("schema.registry.url", platform.registryUrl());
        s.put("kafka.group.id", prefix + "-workers");
        s.put("kafka.session.timeout.ms", "6000");
        s.put("kafka.heartbeat.interval.ms", "500");
        s.put("instance.id", prefix);
        s.put("ops.port", "-1");
        s.put("max.wait.ms", "5");
        for (String topic : List.of("requests", "results", "models", "dead-letters")) {
            s.put("topic." + topic, prefix + "-" + topic);
        }
        for (String e : extra) {
            s.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        return s;
    }

    private static void createTopics(String prefix) {
        platform.createTopic(prefix + "-requests", 2);
        platform.createTopic(prefix + "-results", 2);
        platform.createTopic(prefix + "-models", 1);
        platform.createTopic(prefix + "-dead-letters", 1);
    }

    private static InferenceRequest generate(String id, String prompt, int maxNewTokens, String model) {
        GenerationParams params = GenerationParams.newBuilder().setMaxNewTokens(maxNewTokens).setTemperature(0f)
                .setTopK(0).setTopP(1f).setSeed(null).setStopIds(List.of()).build();
        return InferenceRequest.newBuilder().setRequestId(id).setDocumentId("doc-" + id).setTask(Task.GENERATE)
                .setPromptIds(IntLists.of(R50K.encode(prompt))).setLabels(null).setParams(params).setModel(model)
                .setTokenizerFingerprint(R50K.fingerprint()).build();
    }

    /** Sends the requests; returns each request's partition, in the order sent. */
    private static Map<String, Integer> send(String topic, List<InferenceRequest> requests) throws Exception {
        Map<String, Integer> partitions = new LinkedHashMap<>();
        try (KafkaProducer<String, InferenceRequest> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new AvroSerializer<>(registry, false))) {
            for (InferenceRequest r : requests) {
                partitions.put(r.getRequestId(),
                        producer.send(new ProducerRecord<>(topic, r.getRequestId(), r)).get().partition());
            }
        }
        return partitions;
    }

    private static List<InferenceRequest> workload(String prefix, int n, long seed) {
        Random random = new Random(seed);
        String[] words = {"stream", "token", "kafka", "model", "the", "of", "batch", "cache", "exactly", "once"};
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder prompt = new StringBuilder();
            for (int w = 1 + random.nextInt(20); w > 0; w--) {
                prompt.append(words[random.nextInt(words.length)]).append(' ');
            }
            requests.add(generate(prefix + "-" + i, prompt.toString(), 8 + random.nextInt(25), null));
        }
        return requests;
    }

    @Test
    void everyRequestGetsOneResultBadOnesAnErrorAndUndecodableOnesADeadLetter() throws Exception {
        String p = "basic";
        createTopics(p);
        List<InferenceRequest> good = workload(p, 30, 1);
        InferenceRequest classify = InferenceRequest.newBuilder(generate(p + "-classify", "is this a stream?", 1, null))
                .setTask(Task.CLASSIFY).setLabels(List.of(" yes", " no", " maybe")).build();
        Map<String, String> bad = new LinkedHashMap<>();
        List<InferenceRequest> requests = new ArrayList<>(good);
        requests.add(classify);
        addBad(requests, bad, InferenceRequest.newBuilder(generate(p + "-empty", "x", 4, null)).setPromptIds(List.of()).build(), "empty prompt");
        addBad(requests, bad, InferenceRequest.newBuilder(generate(p + "-vocab", "x", 4, null)).setPromptIds(List.of(1, 60_000)).build(), "outside the vocabulary");
        addBad(requests, bad, InferenceRequest.newBuilder(generate(p + "-tokenizer", "x", 4, null)).setTokenizerFingerprint("0000000000000000").build(), "tokenized with tokenizer 0000000000000000");
        addBad(requests, bad, InferenceRequest.newBuilder(generate(p + "-temperature", "x", 4, null)).setParams(GenerationParams.newBuilder().setTemperature(-1f).setStopIds(List.of()).build()).build(), "temperature");
        addBad(requests, bad, generate(p + "-length", "x", CONTEXT, null), "maxNewTokens");
        addBad(requests, bad, generate(p + "-pinned", "x", 4, "tiny:9"), "unknown model 'tiny:9'");
        addBad(requests, bad, InferenceRequest.newBuilder(classify).setRequestId(p + "-nolabels").setLabels(null).build(),
                "needs at least one label");
        send(p + "-requests", requests);
        try (KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                platform.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            raw.send(new ProducerRecord<>(p + "-requests", 0, "garbage".getBytes(StandardCharsets.UTF_8),
                    new byte[] {0, 0, 0, 0, 99, 1, 2})).get();
        }

        // A queue of 4 makes the worker pause and resume its partitions many times over.
        try (InferenceWorker worker = InferenceWorker.start(Settings.of(settings(p, "model.dir=" + v1,
                "models.watch=false", "queue.capacity=4", "ops.port=0")))) {
            await("all results", () -> results(p).size() >= requests.size());
            await("the dead letter", () -> readRaw(p + "-dead-letters").size() >= 1);
            assertThat(get(worker.opsPort(), "/health")).contains("\"status\":\"UP\"");
            assertThat(get(worker.opsPort(), "/metrics"))
                    .contains("llmstream_inference_generated_tokens_total")
                    .contains("llmstream_inference_time_to_first_token_seconds")
                    .contains("llmstream_inference_padding_ratio")
                    .contains("llmstream_inference_queue_depth")
                    .containsPattern("llmstream_inference_execution_provider\\{.*provider=\"cpu\".*} 1\\.0")
                    .containsPattern("llmstream_inference_results_total\\{status=\"error\"} 7\\.0");
        }
        Map<String, InferenceResult> byId = byRequestId(results(p));
        assertThat(results(p)).hasSize(requests.size());
        assertThat(byId).hasSize(requests.size());
        bad.forEach((id, reason) -> {
            assertThat(byId.get(id).getStatus()).as(id).isEqualTo(ResultStatus.ERROR);
            assertThat(byId.get(id).getFinishReason()).isEqualTo(FinishReason.ERROR);
            assertThat(byId.get(id).getError()).as(id).contains(reason);
        });
        try (DecoderModel model = ModelLoader.load(v1, RuntimeOptions.cpu())) {
            for (InferenceRequest r : good) {
                InferenceResult result = byId.get(r.getRequestId());
                assertThat(result.getStatus()).isEqualTo(ResultStatus.OK);
                assertThat(result.getModel().getVersion()).isEqualTo("1");
                assertThat(result.getDocumentId()).isEqualTo(r.getDocumentId());
                int[] expected = Generator.generate(model, IntLists.toArray(r.getPromptIds()),
                        Sampling.greedy(r.getParams().getMaxNewTokens())).outputIds();
                assertThat(IntLists.toArray(result.getOutputIds())).as(r.getRequestId()).containsExactly(expected);
                assertThat(result.getText()).isEqualTo(R50K.decode(expected));
            }
        }
        InferenceResult classified = byId.get(p + "-classify");
        assertThat(classified.getStatus()).isEqualTo(ResultStatus.OK);
        assertThat(classified.getLabelScores()).containsOnlyKeys(" yes", " no", " maybe");
        assertThat(classified.getLabel()).isIn(" yes", " no", " maybe");

        ConsumerRecord<byte[], byte[]> dead = readRaw(p + "-dead-letters").get(0);
        assertThat(new String(dead.value(), StandardCharsets.ISO_8859_1)).isEqualTo(new String(new byte[] {0, 0, 0, 0, 99, 1, 2}, StandardCharsets.ISO_8859_1));
        assertThat(header(dead, "message")).contains("unknown schema id").contains("99");
        assertThat(header(dead, "topic")).isEqualTo(p + "-requests");
        assertThat(header(dead, "partition")).isEqualTo("0");
        assertThat(header(dead, "exception")).contains("SerializationException");
    }

    private static void addBad(List<InferenceRequest> requests, Map<String, String> bad, InferenceRequest r, String reason) {
        requests.add(r);
        bad.put(r.getRequestId(), reason);
    }

    @Test
    void anAbruptKillMidBatchLosesAndDuplicatesNothing(@TempDir Path state) throws Exception {
        String p = "crash";
        createTopics(p);
        List<InferenceRequest> requests = workload(p, 200, 2);
        send(p + "-requests", requests);
        Map<String, String> conf = settings(p, "model.dir=" + v1, "models.watch=false", "max.batch.size=8");

        Process child = startChild(conf, state);
        try {
            await("first committed results", () -> !results(p).isEmpty());
        } finally {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no commit, no abort, no close
        }
        int before = results(p).size();
        assertThat(before).as("the kill came mid-stream").isLessThan(requests.size());

        try (InferenceWorker worker = InferenceWorker.start(Settings.of(conf))) {
            await("all results", () -> results(p).size() >= requests.size());
        }
        assertOneOkResultPerRequest(p, requests);
    }

    @Test
    void rebalancesMidStreamLoseAndDuplicateNothing() throws Exception {
        String p = "rebalance";
        createTopics(p);
        List<InferenceRequest> requests = workload(p, 200, 5);
        send(p + "-requests", requests);
        InferenceWorker second;
        try (InferenceWorker first = InferenceWorker.start(Settings.of(settings(p, "model.dir=" + v1, "models.watch=false",
                "max.batch.size=8")))) {
            await("first results", () -> results(p).size() >= 10);
            // A second member joins: the first commits what it finished and gives up a partition mid-batch.
            second = InferenceWorker.start(Settings.of(settings(p, "model.dir=" + v1, "models.watch=false",
                    "max.batch.size=8", "instance.id=" + p + "-second")));
            await("results from both", () -> results(p).size() >= 100);
        } // the first leaves: the second takes over its partition
        try (second) {
            await("all results", () -> results(p).size() >= requests.size());
        }
        assertOneOkResultPerRequest(p, requests);
    }

    @Test
    void aModelPublishedUnderLoadLosesAndDuplicatesNothing() throws Exception {
        String p = "reload";
        createTopics(p);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                platform.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
             InferenceWorker worker = InferenceWorker.start(Settings.of(settings(p)))) {
            ModelPublisher publisher = new ModelPublisher(producer, registry, p + "-models");
            publisher.publish(ModelManifest.read(v1), v1);

            Map<String, Integer> partitions = new LinkedHashMap<>(send(p + "-requests", workload(p + "-a", 100, 3)));
            await("results from version 1", () -> results(p).size() >= 10);
            publisher.publish(ModelManifest.read(v2), v2);
            int round = 0;
            while (byRequestId(results(p)).values().stream().noneMatch(r -> r.getModel().getVersion().equals("2"))) {
                partitions.putAll(send(p + "-requests", workload(p + "-b" + round++, 10, 10 + round)));
                assertThat(round).as("version 2 serves within the wait").isLessThan(200);
                Thread.sleep(200);
            }
            partitions.putAll(send(p + "-requests", workload(p + "-c", 50, 4)));
            List<InferenceRequest> pinned = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                pinned.add(generate(p + "-pinned-" + i, "pinned to the old version", 6, "tiny:1"));
            }
            partitions.putAll(send(p + "-requests", pinned));
            await("all results", () -> results(p).size() >= partitions.size());

            List<ConsumerRecord<String, InferenceResult>> results = results(p);
            assertThat(results).extracting(ConsumerRecord::key).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(partitions.keySet());
            assertThat(results).allSatisfy(r -> assertThat(r.value().getStatus()).as(r.key()).isEqualTo(ResultStatus.OK));
            Map<String, InferenceResult> byId = byRequestId(results);
            pinned.forEach(r -> assertThat(byId.get(r.getRequestId()).getModel().getVersion()).isEqualTo("1"));
            // Unpinned requests take the newest version when they arrive: per partition, in order, 1...1 then 2...2.
            Map<Integer, String> lastVersion = new HashMap<>();
            partitions.forEach((id, partition) -> {
                if (id.contains("-pinned-")) {
                    return;
                }
                String version = byId.get(id).getModel().getVersion();
                assertThat(version.compareTo(lastVersion.getOrDefault(partition, "1"))).as(id).isGreaterThanOrEqualTo(0);
                lastVersion.put(partition, version);
            });
            assertThat(byId.get(p + "-c-49").getModel().getVersion()).isEqualTo("2");
        }
    }

    /** The worker in its own JVM through its container entry point, so it can be killed for real. */
    private static Process startChild(Map<String, String> conf, Path dir) throws IOException {
        Path config = dir.resolve("worker.properties");
        Properties props = new Properties();
        props.putAll(conf);
        try (Writer out = Files.newBufferedWriter(config)) {
            props.store(out, "inference worker under test");
        }
        return JavaProcess.start(InferenceWorkerApp.class, List.of("-Xmx1g"), List.of("--config", config.toString()),
                dir.resolve("child.log"));
    }

    private static String get(int port, String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static Map<String, InferenceResult> byRequestId(List<ConsumerRecord<String, InferenceResult>> results) {
        Map<String, InferenceResult> byId = new HashMap<>();
        results.forEach(r -> byId.put(r.key(), r.value()));
        return byId;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader("__streams.errors." + name).value(), StandardCharsets.UTF_8);
    }

    /** Exactly one result per request id, every one OK. */
    private static void assertOneOkResultPerRequest(String prefix, List<InferenceRequest> requests) {
        List<ConsumerRecord<String, InferenceResult>> results = results(prefix);
        assertThat(results).extracting(ConsumerRecord::key).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(requests.stream().map(InferenceRequest::getRequestId).toList());
        assertThat(results).allSatisfy(r -> assertThat(r.value().getStatus()).isEqualTo(ResultStatus.OK));
    }

    private static List<ConsumerRecord<String, InferenceResult>> results(String prefix) {
        return read(prefix + "-results", new StringDeserializer(), AvroDeserializer.specific(InferenceResult.class, registry));
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
}
