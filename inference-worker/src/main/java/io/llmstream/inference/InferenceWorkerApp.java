package io.llmstream.inference;

import io.llmstream.inference.kafka.InferenceWorker;
import io.llmstream.inference.kafka.WorkerSettings;

import io.llmstream.ops.ComponentArgs;
import io.llmstream.ops.Settings;

/**
 * The worker's container entry point: {@code [--config FILE] [--bootstrap SERVERS] [--registry URL] [--set key=value]...}
 * over the defaults in {@code inference-worker.properties}; runs until SIGTERM, then finishes the work in hand.
 */
public final class InferenceWorkerApp {

    private InferenceWorkerApp() {}

    public static void main(String[] args) throws InterruptedException {
        runUntilShutdown(ComponentArgs.parse(args).settings(WorkerSettings.defaults()));
    }

    /** Starts a worker and blocks until it stops; a shutdown hook closes it. Exits with status 1 if it failed. */
    public static void runUntilShutdown(Settings settings) throws InterruptedException {
        InferenceWorker worker = InferenceWorker.start(settings);
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "inference-worker-shutdown"));
        worker.awaitTermination();
        if (worker.health().state().equals("FAILED")) {
            System.exit(1);
        }
    }
}
