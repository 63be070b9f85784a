package io.llmstream.trainer;

import ai.djl.ndarray.NDManager;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The versions of one model under {@code <models-root>/<name>/}. A version is named after the step it was exported
 * at, {@code step-} and twelve digits ({@code step-000000001000}), so names sort in training order and a version
 * never changes once written. Reaching an exported step again (a resume replays the steps after the last checkpoint)
 * returns the directory already there instead of writing it twice.
 */
public final class ModelVersions {

    private static final Logger log = LoggerFactory.getLogger(ModelVersions.class);

    /** A version directory and its manifest; {@code written} is false when it was already there. */
    public record Exported(ModelManifest manifest, Path directory, boolean written) {}

    private final Path modelDir;
    private final RunInfo run;
    private final Path metricsLog;

    /** @param metricsLog the run's {@link MetricsLog} file, copied into each version; null for none */
    public ModelVersions(Path modelsRoot, RunInfo run, Path metricsLog) {
        this.modelDir = modelsRoot.resolve(run.modelName());
        this.run = run;
        this.metricsLog = metricsLog;
    }

    public static String versionOf(long step) {
        return String.format("step-%012d", step);
    }

    /** The version of {@code model}'s current weights at {@code step}. */
    public Exported export(Decoder model, long step, Map<String, Double> metrics) throws IOException {
        return write(model, run, step, metrics, metricsLog, modelDir.resolve(versionOf(step)));
    }

    /**
     * Writes {@code model} as version {@code step-…} of the run's model at {@code directory}, or returns the one
     * already there (after checking its files against its manifest). Metrics gain {@code step}; the rows of
     * {@code metricsLog} (null for none) up to {@code step} are copied in and drawn.
     */
    public static Exported write(Decoder model, RunInfo run, long step, Map<String, Double> metrics, Path metricsLog,
                                 Path directory) throws IOException {
        if (Files.exists(directory)) {
            ModelManifest existing = ModelManifest.read(directory);
            existing.verify(directory);
            log.info("model {} {} already exported at {}", existing.name(), existing.version(), directory);
            return new Exported(existing, directory, false);
        }
        Map<String, Double> withStep = new LinkedHashMap<>(metrics);
        withStep.put("step", (double) step);
        ModelManifest manifest = ModelArtifactWriter.write(model, run.modelInfo(versionOf(step), withStep),
                run.tokenizerJson(), metricsLog == null ? null : new ModelArtifactWriter.TrainingMetrics(metricsLog, step),
                directory);
        log.info("exported model {} {} to {}", manifest.name(), manifest.version(), directory);
        return new Exported(manifest, directory, true);
    }

    /**
     * Exports a checkpoint: {@code checkpoint} is one checkpoint directory ({@code step-…}) or a checkpoint root (its
     * newest intact checkpoint is taken); the run's {@code run.json} is found beside the checkpoints. The version is
     * named after the checkpoint's step.
     */
    public static Exported fromCheckpoint(Path checkpoint, Path directory) throws IOException {
        boolean single = CheckpointStore.isCheckpoint(checkpoint);
        Path root = single ? checkpoint.toAbsolutePath().getParent() : checkpoint;
        RunInfo run = RunInfo.readFrom(root);
        Checkpoint c = single ? CheckpointStore.read(checkpoint) : CheckpointStore.readLatest(root)
                .orElseThrow(() -> new IOException("no intact checkpoint in " + root));
        try (NDManager manager = NDManager.newBaseManager()) {
            Decoder model = c.model().create(manager, c.seed());
            c.assignWeights(model);
            return write(model, run, c.step(), c.metrics(), root.resolve(ModelFiles.METRICS), directory);
        }
    }
}
