package io.llmstream.trainer;

import io.llmstream.ops.ComponentArgs;
import io.llmstream.ops.OpsServer;
import io.llmstream.ops.Progress;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.trainer.hf.HuggingFaceCheckpoint;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.kafka.KafkaWindowSource;
import io.llmstream.trainer.kafka.ModelPublisher;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The trainer as a running component. {@link #kafka} trains on the {@code training-windows} topic and publishes every
 * exported version on {@code models}; {@link #offline} trains on a JSON Lines file of windows and writes one model
 * directory at the end. Both resume from their checkpoints, so a restarted process continues where the last
 * checkpoint left off.
 *
 * <p>{@link #run()} trains until {@code train.steps}, the end of the windows (an offline file without repeat, or
 * {@code windows.idle.timeout.ms} of silence on Kafka) or {@link #stop()}; it then checkpoints and, unless stopped,
 * exports the final version. Stopping (SIGTERM through {@link #runUntilDone}) finishes the current step, checkpoints
 * and returns without exporting, to stay within a container's grace period.
 */
public final class TrainerApp implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TrainerApp.class);
    private static final long SHUTDOWN_GRACE_SECONDS = 120;

    /** How a run ended: the step reached, whether it was stopped early, and the versions exported. */
    public record Outcome(long step, boolean stopped, List<ModelVersions.Exported> exports) {}

    /** Writes (and announces) one model version. */
    @FunctionalInterface
    private interface Exporter {
        ModelVersions.Exported export(Decoder model, long step, Map<String, Double> metrics) throws IOException;
    }

    private final Trainer trainer;
    private final Runnable wakeSource;
    private final Exporter exporter;
    private final long exportInterval;
    private final TrainingMonitor monitor;
    private final Resources resources;
    private volatile boolean stopRequested;
    private volatile String state = "STARTING";

    private TrainerApp(TrainerSettings s, Tokenizer tokenizer, RunInfo run, Path checkpointDir, WindowSource source,
                       Runnable wakeSource, Exporter exporter, long exportInterval, TrainingMonitor monitor,
                       Resources resources) throws IOException {
        this.wakeSource = wakeSource;
        this.exporter = exporter;
        this.exportInterval = exportInterval;
        this.monitor = monitor;
        this.resources = resources;
        run.saveTo(checkpointDir);
        CheckpointStore store = new CheckpointStore(checkpointDir, s.training().keepCheckpoints());
        MetricsLog metricsLog = resources.add(new MetricsLog(checkpointDir));
        TrainingListener listener = TrainingListener.both(monitor, metricsLog);
        ModelConfig shape = (s.initFrom() == null ? s.model().withVocabulary(tokenizer.vocabSize())
                : pretrained(s.initFrom(), tokenizer)).withClassLabels(s.classLabels());
        this.trainer = resources.add(s.initFrom() == null
                ? new Trainer(shape, s.training(), source, store, listener)
                : new Trainer(shape, s.training(), source, store, listener,
                        model -> HuggingFaceCheckpoint.loadWeights(s.initFrom(), model)));
        metricsLog.resumeAt(trainer.step());
        log.info("training {} ({} parameters) with tokenizer {} ({}) from step {}", run.modelName(),
                trainer.model().config().parameterCount(), tokenizer.name(), tokenizer.fingerprint(), trainer.step());
    }

    /** The architecture of the checkpoint in {@code dir}, checked against the tokenizer the windows are cut with. */
    private static ModelConfig pretrained(Path dir, Tokenizer tokenizer) throws IOException {
        ModelConfig config = HuggingFaceCheckpoint.config(dir);
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IllegalArgumentException(dir + ": the tokenizer has " + tokenizer.vocabSize()
                    + " ids, more than the model's vocab_size " + config.vocabSize());
        }
        log.info("starting from the pretrained {} in {} unless a checkpoint exists", config, dir);
        return config;
    }

    /**
     * Trains on the windows topic: windows of the configured tokenizer only, checkpoints in {@code checkpoint.dir},
     * versions under {@code models.root} announced on {@code topic.models}, /health and /metrics on {@code ops.port}.
     */
    public static TrainerApp kafka(Settings settings) throws IOException {
        TrainerSettings s = TrainerSettings.from(settings);
        Tokenizer tokenizer = Tokenizers.load(s.tokenizer());
        RunInfo run = RunInfo.of(s.modelName(), s.tokenizer(), tokenizer, s.bos(), s.eos(), s.pad());
        Resources resources = new Resources();
        try {
            PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            TrainingMonitor monitor = monitor(meters, s);
            SchemaRegistryClient registry = resources.add(HttpSchemaRegistryClient.fromConfig(s.registry()));
            KafkaProducer<byte[], byte[]> producer = resources.add(new KafkaProducer<>(producerConfig(s.kafka()),
                    new ByteArraySerializer(), new ByteArraySerializer()));
            KafkaWindowSource source = resources.add(new KafkaWindowSource(s.kafka(),
                    new KafkaWindowSource.Options(s.windowsTopic(), tokenizer.fingerprint(), s.deadLettersTopic(),
                            s.idleTimeout()),
                    registry, producer, monitor));
            ModelVersions versions = new ModelVersions(s.modelsRoot(), run,
                    s.checkpointDir().resolve(ModelFiles.METRICS));
            ModelPublisher publisher = new ModelPublisher(producer, registry, s.modelsTopic());
            Exporter exporter = (model, step, metrics) -> {
                ModelVersions.Exported exported = versions.export(model, step, metrics);
                // Announced even when the directory was there already: the crash may have come before the announcement.
                publisher.publish(exported.manifest(), exported.directory());
                return exported;
            };
            TrainerApp app = new TrainerApp(s, tokenizer, run, s.checkpointDir(), source, source::stop, exporter,
                    s.exportInterval(), monitor, resources);
            if (s.opsPort() >= 0) {
                resources.add(OpsServer.start(s.opsPort(), app::health, meters));
            }
            return app;
        } catch (IOException | RuntimeException e) {
            resources.closeQuietly(e);
            throw e;
        }
    }

    /**
     * Trains on a JSON Lines file of windows ({@link JsonlWindowSource}; read again from the top while
     * {@code windows.repeat}) and writes the final model directory to {@code out}, which must not exist. Checkpoints go
     * beside it, to {@code <out>.checkpoints}, so running the same command again resumes an interrupted run.
     *
     * @param tokenizer built-in encoding name or tokenizer.json path (overrides the {@code tokenizer} setting)
     */
    public static TrainerApp offline(Settings settings, Path windows, String tokenizer, Path out) throws IOException {
        if (Files.exists(out)) {
            throw new FileAlreadyExistsException(out.toString(), null, "the model directory exists already");
        }
        TrainerSettings s = TrainerSettings.from(settings.with("tokenizer", tokenizer));
        Tokenizer loaded = Tokenizers.load(s.tokenizer());
        RunInfo run = RunInfo.of(s.modelName(), s.tokenizer(), loaded, s.bos(), s.eos(), s.pad());
        Resources resources = new Resources();
        try {
            TrainingMonitor monitor = monitor(new SimpleMeterRegistry(), s);
            JsonlWindowSource source = resources.add(new JsonlWindowSource(windows, s.repeatWindowsFile()));
            Path checkpoints = out.resolveSibling(out.getFileName() + ".checkpoints");
            return new TrainerApp(s, loaded, run, checkpoints, source, () -> { },
                    (model, step, metrics) -> ModelVersions.write(model, run, step, metrics,
                            checkpoints.resolve(ModelFiles.METRICS), out), 0, monitor, resources);
        } catch (IOException | RuntimeException e) {
            resources.closeQuietly(e);
            throw e;
        }
    }

    /** The container entry point: Kafka mode, {@code [--config FILE] [--bootstrap ..] [--registry ..] [--set k=v]..}. */
    public static void main(String[] args) throws Exception {
        configureEngine();
        Outcome outcome = runUntilDone(kafka(ComponentArgs.parse(args).settings(TrainerSettings.defaults())));
        log.info("trainer finished at step {}{}", outcome.step(), outcome.stopped() ? " (stopped)" : "");
    }

    /**
     * DJL settings for a trainer process, unless given: offline (the CPU engine ships in the jar; no telemetry), and on
     * machines with two cores or fewer one intra-op thread, which measured 5-14x faster there than PyTorch's default
     * (its threads then fight the JVM's own for the same cores).
     */
    public static void configureEngine() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("ai.djl.pytorch.num_threads") == null && Runtime.getRuntime().availableProcessors() <= 2) {
            System.setProperty("ai.djl.pytorch.num_threads", "1");
        }
    }

    /**
     * Runs {@code app} on this thread and closes it, with a shutdown hook (SIGTERM, Ctrl-C) that stops it and waits
     * for its checkpoint before the JVM exits.
     */
    public static Outcome runUntilDone(TrainerApp app) throws IOException {
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            log.info("shutdown requested: finishing the current step and checkpointing");
            app.stop();
            try {
                finished.await(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trainer-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (app) {
            return app.run();
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down and the hook is running
            }
        }
    }

    /** Trains until the step limit, the end of the windows or {@link #stop()}; see the class comment. */
    public Outcome run() throws IOException {
        state = "TRAINING";
        List<ModelVersions.Exported> exports = new ArrayList<>();
        long[] lastExport = {-1};
        try {
            trainer.train(() -> stopRequested, result -> {
                if (!result.restored() && exportInterval > 0 && result.step() % exportInterval == 0) {
                    exports.add(export());
                    lastExport[0] = result.step();
                }
            });
            boolean stopped = stopRequested;
            if (!stopped && trainer.step() > 0 && trainer.step() != lastExport[0]) {
                exports.add(export());
            }
            monitor.finish(trainer.step());
            state = stopped ? "STOPPED" : "DONE";
            return new Outcome(trainer.step(), stopped, List.copyOf(exports));
        } catch (IOException | RuntimeException e) {
            state = "FAILED";
            throw e;
        }
    }

    /** Asks {@link #run()} to checkpoint and return after the current step; callable from any thread. */
    public void stop() {
        stopRequested = true;
        state = "STOPPING";
        wakeSource.run();
    }

    /** The trainer being run (its model, step and metrics). */
    public Trainer trainer() {
        return trainer;
    }

    public TrainingMonitor monitor() {
        return monitor;
    }

    public OpsServer.Health health() {
        return new OpsServer.Health(!state.equals("FAILED"), state);
    }

    /** Closes the ops endpoint, the trainer's native memory and the Kafka clients; writes nothing. */
    @Override
    public void close() throws IOException {
        resources.close();
    }

    private ModelVersions.Exported export() throws IOException {
        Map<String, Double> metrics = new LinkedHashMap<>(trainer.metrics());
        metrics.put("tokens_seen", (double) trainer.step() * trainer.config().tokensPerStep());
        ModelVersions.Exported exported = exporter.export(trainer.model(), trainer.step(), metrics);
        monitor.onExport();
        return exported;
    }

    private static TrainingMonitor monitor(MeterRegistry meters, TrainerSettings s) {
        return new TrainingMonitor(meters, Progress.start("train " + s.modelName(), s.training().maxSteps()));
    }

    /** Producer settings among the {@code kafka.*} keys, with acknowledged, idempotent writes. */
    static Map<String, Object> producerConfig(Map<String, Object> kafka) {
        Map<String, Object> config = new HashMap<>();
        kafka.forEach((key, value) -> {
            if (ProducerConfig.configNames().contains(key)) {
                config.put(key, value);
            }
        });
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return config;
    }

    /** What an app owns, closed in reverse order of acquisition. */
    private static final class Resources {
        private final Deque<AutoCloseable> owned = new ArrayDeque<>();

        <T extends AutoCloseable> T add(T resource) {
            owned.push(resource);
            return resource;
        }

        void close() throws IOException {
            Exception first = null;
            while (!owned.isEmpty()) {
                try {
                    owned.pop().close();
                } catch (Exception e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first instanceof IOException io) {
                throw io;
            }
            if (first != null) {
                throw new IOException("closing the trainer: " + first.getMessage(), first);
            }
        }

        void closeQuietly(Exception cause) {
            try {
                close();
            } catch (IOException e) {
                cause.addSuppressed(e);
            }
        }
    }
}
