package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.inference.kafka.InferenceWorker;
import io.llmstream.inference.kafka.WorkerSettings;
import io.llmstream.ops.Settings;
import io.llmstream.platform.testing.TestClients;
import io.llmstream.platform.testing.TestPlatform;
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
import io.llmstream.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Hot reload of HuggingFace exports: a worker started without a model serves what {@code llmstream publish} announces
 * on the models topic, under the name given and a version hashed from the files: first a copy of
 * ../shared/models/qwen2-fp32, then, under the same name, llama-fp32. Each result equals transformers' greedy tokens
 * of the model version that answered it. A directory the worker could not serve is refused before anything is sent.
 */
class PublishedModelSystemTest {
    private static final Path MODELS = Path.of(System.getProperty("llmstream.shared", "../../../shared")).resolve("models");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aPublishedHuggingFaceExportIsHotLoadedAndReplacedByTheNextVersion(@TempDir Path hub) throws Exception {
        Path qwen = copy(MODELS.resolve("qwen2-fp32"), hub.resolve("qwen"));
        Path llama = copy(MODELS.resolve("llama-fp32"), hub.resolve("llama"));
        JsonNode qwenExpected = JSON.readTree(qwen.resolve("expected.json").toFile());
        JsonNode llamaExpected = JSON.readTree(llama.resolve("expected.json").toFile());
        // one tokenizer; the fixtures' last texts differ (each model's own that ends at an eos)
        List<Integer> shared = new ArrayList<>();
        for (int i = 0; i < qwenExpected.path("prompts").size(); i++) {
            if (qwenExpected.path("prompts").get(i).equals(llamaExpected.path("prompts").get(i))) {
                shared.add(i);
            }
        }
        assertThat(shared).hasSizeGreaterThanOrEqualTo(4);
        int n = shared.size();
        String fingerprint = Tokenizers.huggingFace(qwen.resolve("tokenizer.json")).fingerprint();
        int maxNew = qwenExpected.path("maxNewTokens").asInt();

        try (TestPlatform platform = TestPlatform.start();
             SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(
                     Map.of("schema.registry.url", platform.registryUrl()))) {
            for (String t : List.of("requests", "results", "models", "dead-letters")) {
                platform.createTopic("hot-" + t, t.equals("requests") || t.equals("results") ? 2 : 1);
            }
            String[] connection = {"--bootstrap", platform.bootstrapServers(), "--registry", platform.registryUrl(),
                    "--topic", "hot-models"};
            StringWriter err = new StringWriter();
            StringWriter out = new StringWriter();
            CommandLine cli = LlmstreamCommand.commandLine().setOut(new PrintWriter(out, true))
                    .setErr(new PrintWriter(err, true));

            // refused before publishing: the worker could not serve it
            Path broken = copy(MODELS.resolve("qwen2-fp32"), hub.resolve("broken"));
            Files.delete(broken.resolve("model.onnx"));
            assertThat(cli.execute(concat(new String[] {"publish", "--model", broken.toString()}, connection))).isEqualTo(1);
            assertThat(err.toString()).contains("llmstream publish: cannot load the model in").contains("model.onnx");
            assertThat(err.toString().lines().filter(l -> l.startsWith("llmstream publish:")).count()).isEqualTo(1);
            assertThat(TestClients.readCommitted(platform.bootstrapServers(), "hot-models", new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())).isEmpty();

            Map<String, String> worker = new LinkedHashMap<>(WorkerSettings.defaults());
            worker.putAll(Map.of("kafka.bootstrap.servers", platform.bootstrapServers(),
                    "schema.registry.url", platform.registryUrl(), "kafka.group.id", "hot-workers",
                    "ops.port", "-1", "max.wait.ms", "20"));
            for (String t : List.of("requests", "results", "models", "dead-letters")) {
                worker.put("topic." + t, "hot-" + t);
            }
            try (InferenceWorker w = InferenceWorker.start(Settings.of(worker))) {
                assertThat(cli.execute(concat(new String[] {"publish", "--model", qwen.toString(), "--name", "assistant"},
                        connection))).as(err.toString()).isZero();
                String v1 = version(out.toString());
                send(platform, registry, requests("v1-", qwenExpected, shared, fingerprint, maxNew));
                TestClients.await("the first version's results", Duration.ofSeconds(120),
                        () -> results(platform, registry).size() >= n);

                assertThat(cli.execute(concat(new String[] {"publish", "--model", llama.toString(), "--name", "assistant"},
                        connection))).as(err.toString()).isZero();
                String v2 = version(out.toString());
                assertThat(v2).isNotEqualTo(v1);
                int round = 0;
                while (results(platform, registry).stream().noneMatch(r -> r.value().getModel().getVersion().equals(v2))) {
                    send(platform, registry, requests("v2-" + round++ + "-", qwenExpected, shared, fingerprint, maxNew));
                    assertThat(round).as("the second version serves within the wait").isLessThan(100);
                    Thread.sleep(300);
                }
                int sent = n * (round + 1);
                TestClients.await("every result", Duration.ofSeconds(120), () -> results(platform, registry).size() >= sent);

                List<ConsumerRecord<String, InferenceResult>> results = results(platform, registry);
                assertThat(results).hasSize(sent);
                Map<String, JsonNode> expectedOf = Map.of(v1, qwenExpected, v2, llamaExpected);
                for (ConsumerRecord<String, InferenceResult> r : results) {
                    InferenceResult result = r.value();
                    assertThat(result.getStatus()).as(r.key()).isEqualTo(ResultStatus.OK);
                    assertThat(result.getModel().getName()).isEqualTo("assistant");
                    assertThat(expectedOf).containsKey(result.getModel().getVersion());
                    int prompt = Integer.parseInt(r.key().substring(r.key().lastIndexOf('-') + 1));
                    JsonNode expected = expectedOf.get(result.getModel().getVersion());
                    assertThat(IntLists.toArray(result.getOutputIds())).as(r.key() + " on " + result.getModel())
                            .containsExactly(withoutEos(expected.path("hfFp32").get(prompt), expected));
                }
                assertThat(results).extracting(r -> r.value().getModel().getVersion()).contains(v1, v2);
            }
        }
    }

    private static int[] withoutEos(JsonNode ids, JsonNode expected) {
        int[] out = JSON.convertValue(ids, int[].class);
        int[] eos = JSON.convertValue(expected.path("eos"), int[].class);
        return Arrays.stream(eos).anyMatch(e -> e == out[out.length - 1]) ? Arrays.copyOf(out, out.length - 1) : out;
    }

    /** The version of the last "published NAME:VERSION (...)" line. */
    private static String version(String out) {
        String line = out.lines().filter(l -> l.startsWith("published assistant:")).reduce((a, b) -> b).orElseThrow();
        return line.substring("published assistant:".length(), line.indexOf(' ', "published ".length()));
    }

    private static List<InferenceRequest> requests(String prefix, JsonNode expected, List<Integer> prompts,
                                                   String fingerprint, int maxNew) {
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i : prompts) {
            GenerationParams params = GenerationParams.newBuilder().setMaxNewTokens(maxNew).setTemperature(0f)
                    .setTopK(0).setTopP(1f).setSeed(null).setStopIds(List.of()).build();
            requests.add(InferenceRequest.newBuilder().setRequestId(prefix + i).setDocumentId(prefix + i)
                    .setTask(Task.GENERATE).setPromptIds(IntLists.of(JSON.convertValue(expected.path("prompts").get(i),
                            int[].class))).setLabels(null).setParams(params).setModel("assistant")
                    .setTokenizerFingerprint(fingerprint).build());
        }
        return requests;
    }

    private static void send(TestPlatform platform, SchemaRegistryClient registry, List<InferenceRequest> requests)
            throws Exception {
        try (KafkaProducer<String, InferenceRequest> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new AvroSerializer<>(registry, false))) {
            for (InferenceRequest r : requests) {
                producer.send(new ProducerRecord<>("hot-requests", r.getRequestId(), r)).get();
            }
        }
    }

    private static List<ConsumerRecord<String, InferenceResult>> results(TestPlatform platform,
                                                                         SchemaRegistryClient registry) {
        return TestClients.readCommitted(platform.bootstrapServers(), "hot-results", new StringDeserializer(),
                AvroDeserializer.specific(InferenceResult.class, registry));
    }

    private static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
