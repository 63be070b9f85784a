package io.llmstream.trainer;

import io.llmstream.ops.Progress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Turns the trainer's callbacks into a progress bar (or log lines) and Prometheus meters: loss, validation loss,
 * learning rate and tokens/s as gauges; steps, tokens, refused windows, undecodable records, restores, checkpoints
 * and exported versions as counters.
 */
public final class TrainingMonitor implements TrainingListener {

    private final Progress progress;
    private final AtomicReference<Double> loss = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> validationLoss = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> validationAccuracy = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> learningRate = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> tokensPerSecond = new AtomicReference<>(Double.NaN);
    private final Counter steps;
    private final Counter tokens;
    private final Counter rejectedWindows;
    private final Counter undecodableRecords;
    private final Counter restores;
    private final Counter checkpoints;
    private final Counter exports;

    public TrainingMonitor(MeterRegistry registry, Progress progress) {
        this.progress = progress;
        gauge(registry, "llmstream.trainer.loss", "training loss of the latest step", loss);
        gauge(registry, "llmstream.trainer.validation.loss", "latest validation loss", validationLoss);
        gauge(registry, "llmstream.trainer.validation.accuracy",
                "latest classification accuracy on the labelled validation windows", validationAccuracy);
        gauge(registry, "llmstream.trainer.learning.rate", "learning rate of the latest step", learningRate);
        gauge(registry, "llmstream.trainer.tokens.per.second", "training throughput of the latest step", tokensPerSecond);
        steps = counter(registry, "llmstream.trainer.steps", "optimizer steps completed");
        tokens = counter(registry, "llmstream.trainer.tokens", "tokens trained on");
        rejectedWindows = counter(registry, "llmstream.trainer.rejected.windows",
                "windows refused (another tokenizer, wrong length, id outside the vocabulary)");
        undecodableRecords = counter(registry, "llmstream.trainer.undecodable.records", "records that are not windows");
        restores = counter(registry, "llmstream.trainer.restores", "non-finite steps answered by a checkpoint restore");
        checkpoints = counter(registry, "llmstream.trainer.checkpoints", "checkpoints written");
        exports = counter(registry, "llmstream.trainer.exports", "model versions exported");
    }

    @Override
    public void onStep(StepResult result) {
        steps.increment();
        tokens.increment(result.tokens());
        loss.set(result.loss());
        learningRate.set(result.learningRate());
        tokensPerSecond.set(result.tokens() / Math.max(1e-9, result.seconds()));
        progress.advance(1, () -> String.format(Locale.ROOT, "step %d  loss %.4f%s  lr %.2e  %.0f tok/s",
                result.step(), result.loss(), validation(), result.learningRate(), tokensPerSecond.get()));
    }

    @Override
    public void onEvaluation(Evaluation evaluation) {
        validationLoss.set(evaluation.loss());
        validationAccuracy.set(evaluation.accuracy());
    }

    @Override
    public void onCheckpoint(long step, Path directory) {
        checkpoints.increment();
    }

    @Override
    public void onRestored(long failedStep, String reason, long restoredStep) {
        restores.increment();
    }

    @Override
    public void onRejectedWindow(Window window, String reason) {
        rejectedWindows.increment();
    }

    @Override
    public void onUndecodableRecord(String origin, String reason) {
        undecodableRecords.increment();
    }

    /** Counts an exported model version. */
    public void onExport() {
        exports.increment();
    }

    public double rejectedWindows() {
        return rejectedWindows.count();
    }

    public double undecodableRecords() {
        return undecodableRecords.count();
    }

    /** Ends the progress bar with the final figures. */
    public void finish(long step) {
        progress.finish(String.format(Locale.ROOT, "step %d  loss %.4f%s  rejected %d  undecodable %d", step,
                loss.get(), validation(), (long) rejectedWindows.count(), (long) undecodableRecords.count()));
    }

    /** "  val 2.3456" once an evaluation ran (and "  accuracy 0.9750" over labelled windows), else nothing. */
    private String validation() {
        double v = validationLoss.get();
        double a = validationAccuracy.get();
        return (Double.isNaN(v) ? "" : String.format(Locale.ROOT, "  val %.4f", v))
                + (Double.isNaN(a) ? "" : String.format(Locale.ROOT, "  accuracy %.4f", a));
    }

    private static void gauge(MeterRegistry registry, String name, String description, AtomicReference<Double> value) {
        Gauge.builder(name, value, AtomicReference::get).description(description).register(registry);
    }

    private static Counter counter(MeterRegistry registry, String name, String description) {
        return Counter.builder(name).description(description).register(registry);
    }
}
