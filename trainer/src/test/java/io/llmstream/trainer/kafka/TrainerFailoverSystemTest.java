package io.llmstream.trainer.kafka;

import io.llmstream.platform.EmbeddedPlatform;
import io.llmstream.platform.JavaProcess;
import io.llmstream.platform.KafkaCluster;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.Split;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.Checkpoint;
import io.llmstream.trainer.CheckpointStore;
import io.llmstream.trainer.TrainerApp;
import io.llmstream.trainer.TrainerSettings;
import io.llmstream.trainer.TinyTokenizer;
import io.llmstream.ops.ComponentArgs;
import io.llmstream.ops.Settings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19, scenario 3: the trainer on three broker processes, itself a process of its own. While windows are still
 * being produced, the broker leading the windows partition is killed with {@code kill -9}; later the trainer is killed
 * too and started again. It resumes from its checkpoint and consumed offsets, and its weights at the end equal those of
 * an uninterrupted run on the same topic.
 */
class TrainerFailoverSystemTest {
    private static final int STEPS = 160;
    /** Every tenth window is VALIDATION: enough TRAIN windows for every step, and a few to spare. */
    private static final int WINDOWS = STEPS * 8 * 10 / 9 + 30;

    @TempDir
    Path dir;

    @Test
    void aBrokerKilledMidRunAndATrainerKilledAndRestartedEndOnTheWeightsOfAnUninterruptedRun() throws Exception {
        TrainerApp.configureEngine(); // the in-process run below on the engine settings of the trainer processes
        Path tokenizer = TinyTokenizer.write(dir.resolve("tokenizer.json"));
        String fingerprint = Tokenizers.load(tokenizer.toString()).fingerprint();
        try (EmbeddedPlatform platform = EmbeddedPlatform.builder().brokers(3).start()) {
            KafkaCluster cluster = platform.cluster().orElseThrow();
            platform.kafka().createTopic("windows", 1, Map.of());
            platform.kafka().createTopic("models", 1, Map.of("cleanup.policy", "compact"));
            int leader;
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", platform.bootstrapServers()))) {
                leader = admin.describeTopics(List.of("windows")).allTopicNames().get().get("windows")
                        .partitions().get(0).leader().id();
            }

            Path crashy = dir.resolve("crashy");
            Process trainer = trainer(platform, tokenizer, crashy, "crashy");
            long brokerKilledAt;
            long trainerKilledAt;
            try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(
                    Map.of("schema.registry.url", platform.registryUrl()));
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                         ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                         ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000),
                         new ByteArraySerializer(), new ByteArraySerializer())) {
                AvroSerializer<TrainingWindow> serializer = new AvroSerializer<>(registry, false);
                Random random = new Random(11);
                for (int i = 0; i < WINDOWS; i++) {
                    TrainingWindow w = TrainingWindow.newBuilder().setTokenizerFingerprint(fingerprint)
                            .setTokens(IntLists.of(random.ints(33, 0, 257).toArray())).setDocumentIds(List.of("d" + i))
                            .setSplit(i % 10 == 9 ? Split.VALIDATION : Split.TRAIN).build();
                    producer.send(new ProducerRecord<>("windows", ("d" + i).getBytes(StandardCharsets.UTF_8),
                            serializer.serialize("windows", w))).get(120, TimeUnit.SECONDS);
                    if (i == WINDOWS / 3) {
                        cluster.kill(leader); // the windows' leader dies while the trainer reads from it
                        cluster.awaitDown(leader);
                    }
                    if (i == 2 * WINDOWS / 3) {
                        // the trainer, which cannot be past step 100 yet, dies hard once it has checkpointed
                        // beyond the broker's death; the broker comes back; the trainer starts again
                        awaitCheckpoint(crashy, 80);
                        trainer.destroyForcibly().waitFor();
                        cluster.start(leader);
                        trainer = trainer(platform, tokenizer, crashy, "crashy");
                    }
                }
                brokerKilledAt = WINDOWS / 3;
                trainerKilledAt = 2 * WINDOWS / 3;
                Process resumed = trainer;
                assertThat(resumed.waitFor(180, TimeUnit.SECONDS)).as("the resumed trainer finishes").isTrue();
                assertThat(resumed.exitValue()).isZero();
            }

            // the uninterrupted run, in this JVM, on the same topic
            try (TrainerApp straight = TrainerApp.kafka(settings(platform, tokenizer, dir.resolve("straight"), "straight"))) {
                assertThat(straight.run().step()).isEqualTo(STEPS);
            }
            Checkpoint a = CheckpointStore.readLatest(dir.resolve("straight")).orElseThrow();
            Checkpoint b = CheckpointStore.readLatest(crashy).orElseThrow();
            assertThat(b.step()).isEqualTo(STEPS);
            assertThat(b.positions()).isEqualTo(a.positions());
            for (String name : a.weights().keySet()) {
                float[] x = a.weights().get(name).data();
                float[] y = b.weights().get(name).data();
                double diff = 0;
                for (int i = 0; i < x.length; i++) {
                    diff = Math.max(diff, Math.abs(x[i] - y[i]));
                }
                assertThat(diff).as("max |difference| of %s", name).isLessThan(1e-5);
            }
            System.out.printf("trainer: %d windows, %d steps; broker %d killed -9 after window %d, trainer killed -9 "
                    + "after window %d (past its checkpoint of step 80) and restarted: weights equal an uninterrupted "
                    + "run's (1e-5)%n",
                    WINDOWS, STEPS, leader, brokerKilledAt, trainerKilledAt);
        }
    }

    private Process trainer(EmbeddedPlatform platform, Path tokenizer, Path checkpoints, String group) throws Exception {
        List<String> args = new ArrayList<>(List.of("--bootstrap", platform.bootstrapServers(),
                "--registry", platform.registryUrl()));
        args.addAll(ComponentArgs.of(settingsMap(tokenizer, checkpoints, group)));
        Files.createDirectories(checkpoints);
        Path logs = Files.createDirectories(Path.of("target", "failover-logs"));
        return JavaProcess.start(TrainerApp.class, List.of("-Xmx1g"), args, logs.resolve(group + ".log"));
    }

    private static Settings settings(EmbeddedPlatform platform, Path tokenizer, Path checkpoints, String group) {
        Map<String, String> values = new HashMap<>(TrainerSettings.defaults());
        values.putAll(settingsMap(tokenizer, checkpoints, group));
        values.put("kafka.bootstrap.servers", platform.bootstrapServers());
        values.put("schema.registry.url", platform.registryUrl());
        return Settings.of(values);
    }

    /** A small model that takes a few milliseconds a step, checkpointing every 20 steps. */
    private static Map<String, String> settingsMap(Path tokenizer, Path checkpoints, String group) {
        Map<String, String> s = new HashMap<>();
        s.put("tokenizer", tokenizer.toString());
        s.put("model.context.length", "32");
        s.put("model.layers", "2");
        s.put("model.heads", "4");
        s.put("model.d.model", "64");
        s.put("model.d.ff", "128");
        s.put("train.sequence.length", "32");
        s.put("train.batch.size", "8");
        s.put("train.steps", Integer.toString(STEPS));
        s.put("train.warmup.steps", "10");
        s.put("eval.interval", "40");
        s.put("checkpoint.interval", "20");
        s.put("checkpoint.keep", "2");
        s.put("checkpoint.dir", checkpoints.toString());
        s.put("models.root", checkpoints.resolve("models").toString());
        s.put("export.interval", "0");
        s.put("topic.windows", "windows");
        s.put("topic.models", "models");
        s.put("topic.dead-letters", "");
        s.put("kafka.group.id", group);
        s.put("ops.port", "-1");
        return s;
    }

    private static void awaitCheckpoint(Path checkpoints, long step) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (latestStep(checkpoints) < step) {
            assertThat(System.nanoTime()).as("a checkpoint of step %d", step).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static long latestStep(Path checkpoints) throws Exception {
        Optional<Checkpoint> latest = Files.isDirectory(checkpoints) ? CheckpointStore.readLatest(checkpoints)
                : Optional.empty();
        return latest.map(Checkpoint::step).orElse(-1L);
    }
}
