package io.llmstream.cli;

import io.llmstream.inference.InferenceWorkerApp;
import io.llmstream.inference.kafka.WorkerSettings;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code llmstream serve}: runs the inference worker until Ctrl-C / SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the inference worker: inference-requests -> batched generation and classification on ONNX Runtime -> inference-results.",
                "Settings: inference-worker.properties defaults, then --config, LLMSTREAM_* variables, --set, --bootstrap/--registry.",
                "Serve a directory from the start with --set model.dir=DIR; otherwise the worker waits for the models topic."})
public final class ServeCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() throws InterruptedException {
        InferenceWorkerApp.runUntilShutdown(connection.settings(WorkerSettings.defaults()));
        return 0;
    }
}
