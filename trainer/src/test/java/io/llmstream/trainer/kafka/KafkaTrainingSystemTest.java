package io.llmstream.trainer.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.llmstream.platform.testing.TestPlatform;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.ModelPublished;
import io.llmstream.schemas.Split;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.NamedParameter;
import io.llmstream.trainer.CheckpointStore;
import io.llmstream.trainer.Decoder;
import io.llmstream.trainer.Gpt;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.RecordingSource;
import io.llmstream.trainer.StepResult;
import io.llmstream.trainer.Trainer;
import io.llmstream.trainer.TrainerApp;
import io.llmstream.trainer.TrainerSettings;
import io.llmstream.trainer.TrainingConfig;
import io.llmstream.trainer.TrainingListener;
import io.llmstream.trainer.Window;
import io.llmstream.trainer.WindowSource;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer on a real broker and registry: exact resume from checkpoint + offsets after a crash, refusal of other
 * tokenizers' windows and of undecodable records, and model versions announced on the models topic.
 */
class KafkaTrainingSystemTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String FINGERPRINT = "fp-test";
    // Dropout on, so the resumed run must also replay the random stream.
    private static final GptConfig MODEL = new GptConfig(40, 16, 2, 2, 32, 64, 0.1f, true);
    private static final TrainingConfig TRAINING = TrainingConfig.builder().sequenceLength(16).batchSize(4)
            .gradientAccumulation(2).maxSteps(12).learningRate(3e-3).warmupSteps(3).evalInterval(4)
            .checkpointInterval(6).keepCheckpoints(2).maxValidationWindows(12).seed(21).build();

    private static TestPlatform platform;
    private static SchemaRegistryClient registry;
    private static Admin admin;
    private static KafkaProducer<byte[], byte[]> producer;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start();
        registry = HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", platform.registryUrl()));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()));
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
    }

    @AfterAll
    static void stop() {
        producer.close();
        admin.close();
        registry.close();
        platform.close();
    }

    @Test
    void aCrashedRunResumesFromItsCheckpointOnTheSameWindowsToTheSameWeights() throws Exception {
        String topic = createTopic("resume-windows", 1, Map.of());
        Random random = new Random(7);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            values.add(window(random.ints(17, 0, MODEL.vocabSize()).toArray(), FINGERPRINT,
                    i % 5 == 4 ? Split.VALIDATION : Split.TRAIN));
        }
        produce(topic, values);

        // Uninterrupted: 12 steps.
        List<String> straight = new ArrayList<>();
        Map<Long, Double> straightLosses = new LinkedHashMap<>();
        Map<String, float[]> straightWeights;
        try (WindowSource source = new RecordingSource(source(topic, "straight", TrainingListener.NONE), straight);
             Trainer trainer = new Trainer(MODEL, TRAINING, source, new CheckpointStore(dir.resolve("a"), 2),
                     lossRecorder(straightLosses))) {
            assertThat(trainer.train()).isEqualTo(12);
            straightWeights = weights(trainer.model());
        }

        // First life: checkpoint at step 6, two more steps, then a crash: the consumer is abandoned, nothing committed
        // or checkpointed after step 6.
        List<String> firstLife = new ArrayList<>();
        int[] consumedAtCheckpoint = {-1};
        KafkaWindowSource abandoned = source(topic, "crashy", TrainingListener.NONE);
        Trainer first = new Trainer(MODEL, TRAINING, new RecordingSource(abandoned, firstLife),
                new CheckpointStore(dir.resolve("b"), 2), new TrainingListener() {
                    @Override
                    public void onCheckpoint(long step, Path directory) {
                        if (step == 6) {
                            consumedAtCheckpoint[0] = firstLife.size();
                        }
                    }
                });
        for (int i = 0; i < 8; i++) {
            first.trainStep().orElseThrow();
        }
        first.close(); // frees native memory only; one trainer at a time per JVM

        // Second life, as a restarted process: same group, same checkpoint directory.
        List<String> secondLife = new ArrayList<>();
        Map<Long, Double> resumedLosses = new LinkedHashMap<>();
        Map<String, Long> finalPosition;
        try (KafkaWindowSource kafka = source(topic, "crashy", TrainingListener.NONE);
             Trainer resumed = new Trainer(MODEL, TRAINING, new RecordingSource(kafka, secondLife),
                     new CheckpointStore(dir.resolve("b"), 2), lossRecorder(resumedLosses))) {
            assertThat(resumed.step()).isEqualTo(6);
            assertThat(resumed.train()).isEqualTo(12);
            Map<String, float[]> resumedWeights = weights(resumed.model());
            for (String name : straightWeights.keySet()) {
                assertThat(maxAbsDiff(resumedWeights.get(name), straightWeights.get(name))).as(name).isLessThan(1e-5);
            }
            finalPosition = kafka.position();
        } finally {
            abandoned.close();
        }
        for (long step = 7; step <= 12; step++) {
            assertThat(resumedLosses.get(step)).as("loss of step %d", step)
                    .isCloseTo(straightLosses.get(step), within(1e-5));
        }

        assertThat(consumedAtCheckpoint[0]).isPositive().isLessThan(firstLife.size());
        List<String> trained = new ArrayList<>(firstLife.subList(0, consumedAtCheckpoint[0]));
        trained.addAll(secondLife);
        assertThat(trained).isEqualTo(straight).doesNotHaveDuplicates();
        assertThat(trained.get(0)).isEqualTo(topic + "-0@0");

        // The group's committed offset follows the checkpoints, for lag monitoring.
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("crashy")
                .partitionsToOffsetAndMetadata().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(committed.get(new TopicPartition(topic, 0)).offset()).isEqualTo(finalPosition.get(topic + "-0"));
    }

    @Test
    void withSeveralPartitionsACrashedAndResumedRunReadsEveryPartitionInOrderWithoutGapsOrRepeats() throws Exception {
        String topic = createTopic("spread-windows", 3, Map.of());
        Random random = new Random(5);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            values.add(window(random.ints(17, 0, MODEL.vocabSize()).toArray(), FINGERPRINT, Split.TRAIN));
        }
        produce(topic, values);

        List<String> firstLife = new ArrayList<>();
        int[] consumedAtCheckpoint = {-1};
        try (KafkaWindowSource abandoned = source(topic, "spread", TrainingListener.NONE);
             Trainer first = new Trainer(MODEL, TRAINING, new RecordingSource(abandoned, firstLife),
                     new CheckpointStore(dir.resolve("d"), 2), new TrainingListener() {
                         @Override
                         public void onCheckpoint(long step, Path directory) {
                             consumedAtCheckpoint[0] = step == 6 ? firstLife.size() : consumedAtCheckpoint[0];
                         }
                     })) {
            for (int i = 0; i < 8; i++) {
                first.trainStep().orElseThrow();
            }
        }
        List<String> secondLife = new ArrayList<>();
        Map<String, Long> end;
        try (KafkaWindowSource kafka = source(topic, "spread", TrainingListener.NONE);
             Trainer resumed = new Trainer(MODEL, TRAINING, new RecordingSource(kafka, secondLife),
                     new CheckpointStore(dir.resolve("d"), 2), TrainingListener.NONE)) {
            assertThat(resumed.train()).isEqualTo(12);
            end = kafka.position();
        }

        List<String> read = new ArrayList<>(firstLife.subList(0, consumedAtCheckpoint[0]));
        read.addAll(secondLife);
        assertThat(read).hasSize(12 * 8);
        for (int p = 0; p < 3; p++) {
            String prefix = topic + "-" + p + "@";
            List<String> partition = read.stream().filter(origin -> origin.startsWith(prefix)).toList();
            List<String> expected = new ArrayList<>();
            for (long offset = 0; offset < end.get(topic + "-" + p); offset++) {
                expected.add(prefix + offset);
            }
            assertThat(partition).as("partition %d", p).isEqualTo(expected);
        }
    }

    @Test
    void windowsOfAnotherTokenizerAndUndecodableRecordsAreNeverTrainedOn() throws Exception {
        String topic = createTopic("mixed-windows", 1, Map.of());
        String deadLetters = createTopic("trainer-dead-letters", 1, Map.of());
        Random random = new Random(3);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            values.add(switch (i % 7) {
                case 2 -> window(random.ints(17, 0, MODEL.vocabSize()).toArray(), "fp-other", Split.TRAIN);
                case 5 -> ("not avro " + i).getBytes(StandardCharsets.UTF_8);
                default -> window(random.ints(17, 0, MODEL.vocabSize()).toArray(), FINGERPRINT, Split.TRAIN);
            });
        }
        produce(topic, values);

        List<String> rejected = new ArrayList<>();
        List<String> undecodable = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onRejectedWindow(Window window, String reason) {
                rejected.add(window.origin());
            }

            @Override
            public void onUndecodableRecord(String origin, String reason) {
                undecodable.add(origin);
            }
        };
        List<String> trained = new ArrayList<>();
        TrainingConfig fiveSteps = TrainingConfig.builder().sequenceLength(16).batchSize(2).maxSteps(5).warmupSteps(1)
                .evalInterval(0).checkpointInterval(0).build();
        KafkaWindowSource.Options options = new KafkaWindowSource.Options(topic, FINGERPRINT, deadLetters, WAIT);
        try (KafkaWindowSource kafka = new KafkaWindowSource(kafka("mixed"), options, registry, producer, listener);
             Trainer trainer = new Trainer(MODEL, fiveSteps, new RecordingSource(kafka, trained),
                     new CheckpointStore(dir.resolve("c"), 1), listener)) {
            assertThat(trainer.train()).isEqualTo(5);
            assertThat(kafka.position()).containsEntry(topic + "-0", 14L);
        }

        assertThat(rejected).containsExactly(topic + "-0@2", topic + "-0@9");
        assertThat(undecodable).containsExactly(topic + "-0@5", topic + "-0@12");
        assertThat(trained).hasSize(10).doesNotContainAnyElementsOf(rejected).doesNotContainAnyElementsOf(undecodable);

        List<ConsumerRecord<byte[], byte[]>> letters = readAll(deadLetters, 2);
        assertThat(letters).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactly("not avro 5", "not avro 12");
        assertThat(letters).extracting(r -> header(r, "__streams.errors.topic") + "-"
                        + header(r, "__streams.errors.partition") + "@" + header(r, "__streams.errors.offset"))
                .containsExactlyElementsOf(undecodable);
        assertThat(header(letters.get(0), "__streams.errors.exception")).isNotBlank();
    }

    @Test
    void eachExportedVersionIsAnnouncedOnTheModelsTopicWithTheHashesOfItsFiles() throws Exception {
        String windows = createTopic("app-windows", 2, Map.of());
        String models = createTopic("app-models", 1, Map.of("cleanup.policy", "compact"));
        String fingerprint = Tokenizers.load("r50k_base").fingerprint();
        Random random = new Random(11);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            values.add(window(random.ints(9, 0, 50_000).toArray(), fingerprint, Split.TRAIN));
        }
        produce(windows, values);

        TrainerApp.Outcome outcome;
        try (TrainerApp app = TrainerApp.kafka(appSettings(windows, models, "4"))) {
            outcome = app.run();
        }
        assertThat(outcome.step()).isEqualTo(4);
        assertThat(outcome.exports()).hasSize(2);

        AvroDeserializer<ModelPublished> deserializer = AvroDeserializer.specific(ModelPublished.class, registry);
        List<ConsumerRecord<byte[], byte[]>> records = readAll(models, 2);
        List<String> versions = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            ModelPublished published = deserializer.deserialize(models, record.value());
            assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("tiny").isEqualTo(published.getName());
            Path directory = Path.of(URI.create(published.getUri()));
            ModelManifest manifest = ModelManifest.read(directory);
            manifest.verify(directory);
            // no tokenizer.json: r50k_base is a built-in encoding, named in the manifest instead
            assertThat(published.getFiles()).isEqualTo(manifest.files()).containsOnlyKeys("model.onnx", "genai_config.json",
                    "config.json", "generation_config.json", "model.safetensors", "metrics.csv", "loss.png");
            assertThat(manifest.tokenizerName()).isEqualTo("r50k_base");
            assertThat(published.getTokenizerFingerprint()).isEqualTo(fingerprint);
            assertThat(published.getArchitecture().getVocabSize()).isEqualTo(50257);
            assertThat(published.getArchitecture().getDModel()).isEqualTo(16);
            assertThat(published.getVersion()).isEqualTo(manifest.version()).isEqualTo(directory.getFileName().toString());
            assertThat(published.getMetrics()).containsKeys("train_loss", "step", "tokens_seen");
            versions.add(published.getVersion());
        }
        assertThat(versions).containsExactly("step-000000000002", "step-000000000004");
    }

    @Test
    void stopEndsATrainerWaitingForWindowsWithACheckpointAndNoExport() throws Exception {
        String windows = createTopic("idle-windows", 1, Map.of());
        String models = createTopic("idle-models", 1, Map.of("cleanup.policy", "compact"));
        TrainerApp.Outcome outcome;
        try (TrainerApp app = TrainerApp.kafka(appSettings(windows, models, "0"))) {
            CompletableFuture<TrainerApp.Outcome> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return app.run();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            app.stop();
            outcome = run.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(outcome.stopped()).isTrue();
        assertThat(outcome.step()).isZero();
        assertThat(outcome.exports()).isEmpty();
        assertThat(CheckpointStore.readLatest(dir.resolve("checkpoints")).orElseThrow().positions())
                .containsEntry(windows + "-0", 0L);
    }

    /** TrainerApp settings for a tiny model on r50k_base; {@code idleMillis} 0 waits for windows forever. */
    private Settings appSettings(String windows, String models, String idleMillis) {
        Map<String, String> s = new HashMap<>(TrainerSettings.defaults());
        s.putAll(Map.of("tokenizer", "r50k_base", "model.name", "tiny", "model.context.length", "8",
                "model.layers", "1", "model.heads", "2", "model.d.model", "16", "model.d.ff", "32",
                "train.sequence.length", "8", "train.batch.size", "2"));
        s.putAll(Map.of("train.steps", "4", "train.warmup.steps", "1", "eval.interval", "0",
                "checkpoint.interval", "2", "export.interval", "2", "checkpoint.dir", dir.resolve("checkpoints").toString(),
                "models.root", dir.resolve("models").toString(), "windows.idle.timeout.ms", idleMillis,
                "ops.port", "-1"));
        s.putAll(Map.of("topic.windows", windows, "topic.models", models, "topic.dead-letters", "",
                "kafka.bootstrap.servers", platform.bootstrapServers(), "schema.registry.url", platform.registryUrl(),
                "kafka.group.id", windows + "-trainer"));
        return Settings.of(s);
    }

    private static String createTopic(String name, int partitions, Map<String, String> configs)
            throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all()
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return name;
    }

    private static byte[] window(int[] tokens, String fingerprint, Split split) {
        TrainingWindow w = TrainingWindow.newBuilder().setTokenizerFingerprint(fingerprint).setTokens(IntLists.of(tokens))
                .setDocumentIds(List.of("doc")).setSplit(split).build();
        return new AvroSerializer<TrainingWindow>(registry, false).serialize("training-windows", w);
    }

    private static void produce(String topic, List<byte[]> values) throws Exception {
        for (int i = 0; i < values.size(); i++) {
            // One key per record spreads windows over the partitions.
            producer.send(new ProducerRecord<>(topic, ("doc-" + i).getBytes(StandardCharsets.UTF_8), values.get(i)))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static Map<String, Object> kafka(String group) {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group);
    }

    private static KafkaWindowSource source(String topic, String group, TrainingListener listener) {
        return new KafkaWindowSource(kafka(group), new KafkaWindowSource.Options(topic, FINGERPRINT, null, WAIT),
                registry, null, listener);
    }

    /** Every partition of a topic from the start until {@code count} records (or fails after a generous guard time). */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int count) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        assertThat(records).as("records in " + topic).hasSize(count);
        return records;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static TrainingListener lossRecorder(Map<Long, Double> losses) {
        return new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                losses.put(result.step(), result.loss());
            }
        };
    }

    private static Map<String, float[]> weights(Decoder model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (NamedParameter p : model.namedParameters()) {
            out.put(p.name(), p.parameter().getArray().toFloatArray());
        }
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
