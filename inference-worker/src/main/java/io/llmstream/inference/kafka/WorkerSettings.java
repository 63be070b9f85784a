package io.llmstream.inference.kafka;

import io.llmstream.inference.engine.BatchLimits;
import io.llmstream.inference.model.ExecutionProvider;
import io.llmstream.inference.model.RuntimeOptions;

import io.llmstream.ops.Settings;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The worker's settings, read once from {@link Settings} (defaults in {@code inference-worker.properties}) and checked
 * at start, with errors naming the key.
 *
 * @param modelDir      a model to serve from the start; null to wait for the models topic
 * @param modelName     the model unpinned requests go to; null for the first loaded
 * @param instanceId    names the transactional id: stable across restarts of one worker, distinct between workers
 * @param stall         fault injection: the transaction that stalls before its commit, and for how long
 * @param registry      every setting; the schema-registry client picks its keys (schema.registry.url, basic auth, ...)
 */
public record WorkerSettings(
        Path modelDir,
        String modelName,
        boolean watchModels,
        int keepVersions,
        RuntimeOptions runtime,
        BatchLimits limits,
        int queueCapacity,
        String requestsTopic,
        String resultsTopic,
        String modelsTopic,
        String deadLettersTopic,
        String instanceId,
        int opsPort,
        Stall stall,
        Map<String, String> registry,
        Map<String, Object> kafka) {

    public static final String DEFAULTS_RESOURCE = "/inference-worker.properties";

    /** The {@code transaction}-th transaction (from 1; 0 for none) waits {@code millis} before its commit. */
    public record Stall(long transaction, long millis) {
        public boolean at(long transactionNumber) {
            return transaction > 0 && transactionNumber == transaction && millis > 0;
        }
    }

    public static Map<String, String> defaults() {
        return Settings.resourceDefaults(WorkerSettings.class, DEFAULTS_RESOURCE);
    }

    public static WorkerSettings from(Settings s) {
        RuntimeOptions runtime = new RuntimeOptions(ExecutionProvider.parse(s.string("execution.provider")),
                s.integer("cuda.device.id"), positive(s, "intra.op.threads"),
                s.has("model.variant") ? s.string("model.variant") : null);
        BatchLimits limits = new BatchLimits(positive(s, "max.batch.size"), positive(s, "max.batch.tokens"),
                Duration.ofMillis(s.longValue("max.wait.ms")));
        WorkerSettings settings = new WorkerSettings(
                s.has("model.dir") ? Path.of(s.string("model.dir")) : null,
                s.has("model.name") ? s.string("model.name") : null,
                s.bool("models.watch"),
                positive(s, "models.keep"),
                runtime,
                limits,
                positive(s, "queue.capacity"),
                s.string("topic.requests"),
                s.string("topic.results"),
                s.string("topic.models"),
                s.string("topic.dead-letters"),
                s.has("instance.id") ? s.string("instance.id") : hostName(),
                s.integer("ops.port"),
                new Stall(s.longValue("fault.stall.transaction"), s.longValue("fault.stall.ms")),
                s.asMap(),
                s.kafka());
        if (settings.modelDir == null && !settings.watchModels) {
            throw new IllegalArgumentException("nothing to serve: set model.dir, or models.watch=true to follow the "
                    + settings.modelsTopic + " topic");
        }
        return settings;
    }

    /** The producer's transactional id, unless kafka.transactional.id says otherwise. */
    public String transactionalId() {
        Object explicit = kafka.get("transactional.id");
        return explicit != null ? explicit.toString() : "llmstream-inference-" + instanceId;
    }

    private static int positive(Settings s, String key) {
        int v = s.integer(key);
        if (v < 1) {
            throw new IllegalArgumentException("setting '" + key + "' must be at least 1, got " + v);
        }
        return v;
    }

    private static String hostName() {
        String fromEnv = System.getenv("HOSTNAME");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot tell the host name; set instance.id", e);
        }
    }
}
