package io.llmstream.inference.kafka;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.engine.InferenceListener;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker's meters (Prometheus names in brackets): queue depth and running sequences (gauges), batch size and padding
 * ratio per forward pass, generated tokens ({@code llmstream_inference_generated_tokens_total}: tokens/s is its
 * {@code rate()}), time to first token, per-token latency (one decode step), results by status, dead letters, and the
 * execution provider of each loaded model ({@code llmstream_inference_execution_provider{provider,model}} = 1).
 */
final class WorkerMetrics implements InferenceListener {

    private final MeterRegistry registry;
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final DistributionSummary batchSize;
    private final DistributionSummary paddingRatio;
    private final Counter tokens;
    private final Timer firstToken;
    private final Timer tokenLatency;
    private final Map<String, Timer> forward = new ConcurrentHashMap<>();
    private final Counter ok;
    private final Counter errors;
    private final Counter deadLetters;
    private final Map<String, AtomicInteger> providers = new ConcurrentHashMap<>();

    WorkerMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("llmstream.inference.queue.depth", queued, AtomicInteger::get)
                .description("requests waiting for a batch").register(registry);
        Gauge.builder("llmstream.inference.running", running, AtomicInteger::get)
                .description("generations in the running batch").register(registry);
        batchSize = DistributionSummary.builder("llmstream.inference.batch.size")
                .description("sequences per forward pass").register(registry);
        paddingRatio = DistributionSummary.builder("llmstream.inference.padding.ratio")
                .description("share of masked padding among the attention slots of a forward pass").register(registry);
        tokens = Counter.builder("llmstream.inference.generated.tokens").description("tokens generated").register(registry);
        firstToken = Timer.builder("llmstream.inference.time.to.first.token")
                .description("from a request's arrival to its first generated token").publishPercentiles(0.5, 0.99)
                .register(registry);
        tokenLatency = Timer.builder("llmstream.inference.token.latency")
                .description("one decode step: the time between a sequence's tokens").publishPercentiles(0.5, 0.99)
                .register(registry);
        ok = Counter.builder("llmstream.inference.results").tag("status", "ok").description("results produced").register(registry);
        errors = Counter.builder("llmstream.inference.results").tag("status", "error").description("results produced").register(registry);
        deadLetters = Counter.builder("llmstream.inference.dead.letters")
                .description("undecodable requests sent to the dead-letter topic").register(registry);
    }

    @Override
    public void onForward(String phase, int rows, long slots, long paddingSlots, long nanos) {
        batchSize.record(rows);
        if (slots > 0) {
            paddingRatio.record((double) paddingSlots / slots);
        }
        forward.computeIfAbsent(phase, p -> Timer.builder("llmstream.inference.forward").tag("phase", p)
                .description("forward passes").register(registry)).record(nanos, TimeUnit.NANOSECONDS);
        if (phase.equals("decode")) {
            tokenLatency.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void onFirstToken(long nanos) {
        firstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void onTokens(int count) {
        tokens.increment(count);
    }

    void load(int queuedTasks, int runningSequences) {
        queued.set(queuedTasks);
        running.set(runningSequences);
    }

    void result(boolean success) {
        (success ? ok : errors).increment();
    }

    void deadLetter() {
        deadLetters.increment();
    }

    /** Marks a model as loaded (1) or unloaded (0) on its execution provider. */
    void model(DecoderModel model, boolean loaded) {
        providers.computeIfAbsent(model.id(), id -> {
            AtomicInteger value = new AtomicInteger();
            Gauge.builder("llmstream.inference.execution.provider", value, AtomicInteger::get)
                    .tag("provider", model.provider().label()).tag("model", id)
                    .description("1 for each loaded model on the execution provider it runs on").register(registry);
            return value;
        }).set(loaded ? 1 : 0);
    }
}
