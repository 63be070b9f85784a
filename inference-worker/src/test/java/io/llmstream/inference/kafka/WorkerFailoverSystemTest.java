package io.llmstream.inference.kafka;

import io.llmstream.inference.InferenceWorkerApp;
import io.llmstream.inference.TestModels;
import io.llmstream.inference.engine.Generator;
import io.llmstream.inference.engine.Sampling;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.ops.ComponentArgs;
import io.llmstream.platform.EmbeddedPlatform;
import io.llmstream.platform.JavaProcess;
import io.llmstream.platform.testing.TestClients;
import io.llmstream.schemas.GenerationParams;
import io.llmstream.schemas.InferenceRequest;
import io.llmstream.schemas.InferenceResult;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.ResultStatus;
import io.llmstream.schemas.Task;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.trainer.GptConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19, scenario 2: 2,000 requests on 6 partitions, worker processes on three broker processes. Two workers
 * start; a third joins mid-run (a cooperative rebalance that revokes partitions while their batches run); one is
 * SIGKILLed; and one stalls inside a transaction for longer than its transaction timeout, so the coordinator aborts
 * it. Read committed, there are exactly 2,000 results, one per request, each what a fault-free worker answers, and no
 * worker died of something it could recover from.
 */
class WorkerFailoverSystemTest {
    private static final int REQUESTS = 2_000;

    @TempDir
    Path dir;

    @Test
    void aJoinAKillAndAStalledTransactionLoseAndDuplicateNothing() throws Exception {
        Path model = TestModels.randomModel(dir, "faults", "1", new GptConfig(TestModels.VOCAB, 48, 2, 2, 32, 64, 0f, true), 9);
        Map<String, int[]> expected = new LinkedHashMap<>();
        List<InferenceRequest> requests = new ArrayList<>();
        try (DecoderModel served = ModelLoader.load(model, RuntimeOptions.cpu())) {
            for (int i = 0; i < REQUESTS; i++) {
                int[] prompt = TestModels.randomPrompt(3 + i % 17, i);
                int maxNewTokens = 4 + i % 9;
                String id = "req-" + i;
                requests.add(request(id, prompt, maxNewTokens, served.tokenizer().fingerprint()));
                expected.put(id, Generator.generate(served, prompt, Sampling.greedy(maxNewTokens)).outputIds());
            }
        }
        Path logs = Files.createDirectories(Path.of("target", "failover-logs"));
        try (EmbeddedPlatform platform = EmbeddedPlatform.builder().brokers(3).start();
             SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(
                     Map.of("schema.registry.url", platform.registryUrl()))) {
            platform.kafka().createTopic("requests", 6, Map.of());
            platform.kafka().createTopic("results", 6, Map.of());
            platform.kafka().createTopic("dead-letters", 1, Map.of());
            // the stalled transaction waits 20 s, four times its timeout, so the coordinator aborts it
            Process a = worker(platform, model, "a", logs, "fault.stall.transaction=15", "fault.stall.ms=20000",
                    "kafka.transaction.timeout.ms=5000");
            Process b = worker(platform, model, "b", logs);
            Process c = null;
            long started = System.nanoTime();
            try {
                send(platform, registry, requests);
                awaitResults(platform, registry, REQUESTS / 5);
                c = worker(platform, model, "c", logs); // joins: partitions move while batches run
                awaitResults(platform, registry, REQUESTS / 2);
                b.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no commit, no abort, no close
                awaitResults(platform, registry, REQUESTS);
                assertThat(a.isAlive()).as("the stalled worker recovered").isTrue();
                assertThat(c.isAlive()).as("the joined worker is serving").isTrue();
            } finally {
                for (Process p : new Process[] {a, b, c}) {
                    if (p != null) {
                        p.destroy();
                        p.waitFor(60, TimeUnit.SECONDS);
                    }
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;

            List<ConsumerRecord<String, InferenceResult>> results = results(platform, registry);
            assertThat(results).extracting(ConsumerRecord::key).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(expected.keySet());
            for (ConsumerRecord<String, InferenceResult> r : results) {
                assertThat(r.value().getStatus()).as(r.key()).isEqualTo(ResultStatus.OK);
                assertThat(IntLists.toArray(r.value().getOutputIds())).as(r.key()).containsExactly(expected.get(r.key()));
            }
            String stalled = Files.readString(logs.resolve("worker-a.log"));
            assertThat(stalled).contains("fault injection: transaction 15 stalls 20000 ms");
            System.out.printf("worker: %d requests on 6 partitions; a third worker joined, one SIGKILLed, one stalled "
                    + "20 s in a transaction (timeout 5 s): %d results, 0 lost, 0 duplicated, all equal to a fault-free "
                    + "worker's, in %.1f s%n", REQUESTS, results.size(), seconds);
        }
    }

    private Process worker(EmbeddedPlatform platform, Path model, String instance, Path logs, String... extra)
            throws Exception {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("kafka.bootstrap.servers", platform.bootstrapServers());
        s.put("schema.registry.url", platform.registryUrl());
        s.put("kafka.group.id", "faults");
        s.put("kafka.session.timeout.ms", "6000");
        s.put("kafka.heartbeat.interval.ms", "500");
        // what a SIGKILLed worker leaves open blocks its partitions' offsets until this timeout aborts it
        s.put("kafka.transaction.timeout.ms", "10000");
        s.put("instance.id", instance);
        s.put("ops.port", "-1");
        s.put("model.dir", model.toString());
        s.put("models.watch", "false");
        s.put("max.batch.size", "8");
        s.put("max.wait.ms", "5");
        s.put("topic.requests", "requests");
        s.put("topic.results", "results");
        s.put("topic.dead-letters", "dead-letters");
        for (String e : extra) {
            s.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        return JavaProcess.start(InferenceWorkerApp.class, List.of("-Xmx768m"), ComponentArgs.of(s),
                logs.resolve("worker-" + instance + ".log"));
    }

    private static InferenceRequest request(String id, int[] prompt, int maxNewTokens, String fingerprint) {
        GenerationParams params = GenerationParams.newBuilder().setMaxNewTokens(maxNewTokens).setTemperature(0f)
                .setTopK(0).setTopP(1f).setSeed(null).setStopIds(List.of()).build();
        return InferenceRequest.newBuilder().setRequestId(id).setDocumentId("doc-" + id).setTask(Task.GENERATE)
                .setPromptIds(IntLists.of(prompt)).setLabels(null).setParams(params).setModel(null)
                .setTokenizerFingerprint(fingerprint).build();
    }

    private static void send(EmbeddedPlatform platform, SchemaRegistryClient registry, List<InferenceRequest> requests) {
        try (KafkaProducer<String, InferenceRequest> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 20), new StringSerializer(), new AvroSerializer<>(registry, false))) {
            for (InferenceRequest r : requests) {
                producer.send(new ProducerRecord<>("requests", r.getRequestId(), r));
            }
        }
    }

    private static void awaitResults(EmbeddedPlatform platform, SchemaRegistryClient registry, int count)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (new HashMap<>(byId(results(platform, registry))).size() < count) {
            assertThat(System.nanoTime()).as("%d results", count).isLessThan(deadline);
            Thread.sleep(1_000);
        }
    }

    private static Map<String, InferenceResult> byId(List<ConsumerRecord<String, InferenceResult>> results) {
        Map<String, InferenceResult> byId = new HashMap<>();
        results.forEach(r -> byId.put(r.key(), r.value()));
        return byId;
    }

    private static List<ConsumerRecord<String, InferenceResult>> results(EmbeddedPlatform platform,
                                                                         SchemaRegistryClient registry) {
        return TestClients.readCommitted(platform.bootstrapServers(), "results", new StringDeserializer(),
                AvroDeserializer.specific(InferenceResult.class, registry));
    }
}
