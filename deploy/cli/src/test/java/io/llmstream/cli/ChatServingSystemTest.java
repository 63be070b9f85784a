package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.inference.engine.Generator;
import io.llmstream.inference.engine.Sampling;
import io.llmstream.inference.kafka.InferenceWorker;
import io.llmstream.inference.kafka.WorkerSettings;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.ops.Settings;
import io.llmstream.platform.testing.TestClients;
import io.llmstream.platform.testing.TestPlatform;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.InferenceRequest;
import io.llmstream.schemas.InferenceResult;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.ResultStatus;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.stream.PromptBuilder;
import io.llmstream.stream.StreamSettings;
import io.llmstream.stream.TokenizerStreamApp;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.tokenizer.chat.ChatTemplate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A HuggingFace export served through Kafka: the stream app builds chat-template requests from documents with the
 * model's own Qwen3 template (transformers' ids for the fixture's conversation), the worker serves the Optimum graph
 * of ../shared/models/qwen2-fp32 in batches, and every result equals that prompt's greedy output alone.
 */
class ChatServingSystemTest {
    private static final Path QWEN = Path.of(System.getProperty("llmstream.shared", "../../../shared"))
            .resolve("models/qwen2-fp32");
    private static final int MAX_PROMPT = 100;
    private static final int NEW_TOKENS = 6;

    @Test
    void documentsBecomeChatRequestsAndEveryResultIsTheGreedyOutputAlone(@TempDir Path state) throws Exception {
        JsonNode singleUser = new ObjectMapper().readTree(QWEN.resolve("chat_expected.json").toFile()).path("cases").get(0);
        assertThat(singleUser.path("name").asText()).isEqualTo("single-user");
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("hf-case", singleUser.path("messages").get(0).path("content").asText());
        Random random = new Random(5);
        String[] words = {"stream", "token", "Kafka", "model", "the", "of", "batch", "cache", "naïve", "東京"};
        for (int i = 0; i < 11; i++) {
            StringBuilder text = new StringBuilder();
            for (int w = 2 + random.nextInt(i == 10 ? 200 : 25); w > 0; w--) {
                text.append(words[random.nextInt(words.length)]).append(' ');
            }
            texts.put("doc-" + i, text.toString().strip());
        }

        try (TestPlatform platform = TestPlatform.start();
             SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(
                     Map.of("schema.registry.url", platform.registryUrl()))) {
            for (String t : List.of("documents", "tokens", "requests", "results", "models", "dead-letters")) {
                platform.createTopic("chat-" + t, t.equals("models") ? 1 : 2);
            }
            Map<String, String> stream = new LinkedHashMap<>(StreamSettings.defaults());
            stream.putAll(Map.of("kafka.bootstrap.servers", platform.bootstrapServers(),
                    "schema.registry.url", platform.registryUrl(), "kafka.application.id", "chat-app",
                    "kafka.state.dir", state.toString(), "ops.port", "-1", "windows.enabled", "false",
                    "tokenizer", QWEN.resolve("tokenizer.json").toString(), "requests.enabled", "true",
                    "requests.template", "{text}", "requests.chat.template", QWEN.toString()));
            stream.putAll(Map.of("requests.max.prompt.tokens", String.valueOf(MAX_PROMPT),
                    "requests.max.new.tokens", String.valueOf(NEW_TOKENS)));
            Map<String, String> worker = new LinkedHashMap<>(WorkerSettings.defaults());
            worker.putAll(Map.of("kafka.bootstrap.servers", platform.bootstrapServers(),
                    "schema.registry.url", platform.registryUrl(), "kafka.group.id", "chat-workers",
                    "ops.port", "-1", "max.wait.ms", "20", "model.dir", QWEN.toString()));
            for (String t : List.of("documents", "tokens", "requests", "dead-letters")) {
                stream.put("topic." + t, "chat-" + t);
            }
            for (String t : List.of("requests", "results", "models", "dead-letters")) {
                worker.put("topic." + t, "chat-" + t);
            }

            try (KafkaProducer<String, Document> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                    new StringSerializer(), new AvroSerializer<>(registry, false))) {
                for (Map.Entry<String, String> e : texts.entrySet()) {
                    producer.send(new ProducerRecord<>("chat-documents", e.getKey(),
                            new Document(e.getKey(), e.getValue(), "test", Map.of(), null))).get();
                }
            }
            try (TokenizerStreamApp app = TokenizerStreamApp.start(Settings.of(stream));
                 InferenceWorker w = InferenceWorker.start(Settings.of(worker))) {
                TestClients.await("12 results", Duration.ofSeconds(180), () -> results(platform, registry).size() >= 12);
            }

            List<ConsumerRecord<String, InferenceRequest>> requests = TestClients.readCommitted(platform.bootstrapServers(),
                    "chat-requests", new StringDeserializer(), AvroDeserializer.specific(InferenceRequest.class, registry));
            List<ConsumerRecord<String, InferenceResult>> results = results(platform, registry);
            assertThat(requests).hasSize(12);
            assertThat(results).hasSize(12);
            Tokenizer tokenizer = Tokenizers.huggingFace(QWEN.resolve("tokenizer.json"));
            PromptBuilder prompts = new PromptBuilder(tokenizer, "{text}", List.of(), MAX_PROMPT,
                    PromptBuilder.Side.LEFT, new PromptBuilder.Chat(ChatTemplate.load(QWEN), ""));
            Map<String, int[]> promptOf = new LinkedHashMap<>();
            for (ConsumerRecord<String, InferenceRequest> r : requests) {
                int[] ids = IntLists.toArray(r.value().getPromptIds());
                assertThat(ids).as(r.key()).containsExactly(prompts.build(texts.get(r.key())).ids());
                assertThat(ids.length).isLessThanOrEqualTo(MAX_PROMPT);
                promptOf.put(r.value().getRequestId(), ids);
            }
            // transformers' apply_chat_template ids for the fixture's conversation
            assertThat(promptOf.get("hf-case"))
                    .containsExactly(new ObjectMapper().convertValue(singleUser.path("ids"), int[].class));
            assertThat(tokenizer.decode(promptOf.get("doc-10"))).startsWith("<|im_start|>user\n")
                    .endsWith("<|im_end|>\n<|im_start|>assistant\n");
            try (DecoderModel m = ModelLoader.load(QWEN, RuntimeOptions.cpu())) {
                for (ConsumerRecord<String, InferenceResult> r : results) {
                    InferenceResult result = r.value();
                    assertThat(result.getStatus()).isEqualTo(ResultStatus.OK);
                    int[] alone = Generator.generate(m, promptOf.get(result.getRequestId()),
                            Sampling.greedy(NEW_TOKENS)).outputIds();
                    assertThat(IntLists.toArray(result.getOutputIds())).as(result.getRequestId()).containsExactly(alone);
                }
            }
            assertThat(results.stream().map(r -> r.value().getRequestId()).distinct().count()).isEqualTo(12);
        }
    }

    private static List<ConsumerRecord<String, InferenceResult>> results(TestPlatform platform,
                                                                         SchemaRegistryClient registry) {
        return TestClients.readCommitted(platform.bootstrapServers(), "chat-results", new StringDeserializer(),
                AvroDeserializer.specific(InferenceResult.class, registry));
    }
}
