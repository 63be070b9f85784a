package io.llmstream.cli;

import io.llmstream.platform.EmbeddedPlatform;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code llmstream platform}: runs a Kafka broker and a schema registry in this process, prints their addresses and
 * serves until Ctrl-C / SIGTERM (or, when run in-process, until the running thread is interrupted).
 */
@Command(
        name = "platform",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a single-node Kafka broker (KRaft) and a schema registry in this process until stopped (Ctrl-C).",
            "Prints 'bootstrap: HOST:PORT' and 'registry: URL' once both answer."
        })
public final class PlatformCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Keep topics, records and schemas here across runs (default: a temporary directory, deleted on exit).")
    private Path dataDir;

    @Option(names = "--kafka-port", paramLabel = "PORT", defaultValue = "0",
            description = "Kafka client port (default: the previous run's if free, else any free port).")
    private int kafkaPort;

    @Option(names = "--registry-port", paramLabel = "PORT", defaultValue = "0",
            description = "Schema registry HTTP port (default: the previous run's if free, else any free port).")
    private int registryPort;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "3",
            description = "Partitions of the default topics created on start (default: ${DEFAULT-VALUE}).")
    private int partitions;

    @Override
    public Integer call() {
        EmbeddedPlatform platform;
        try {
            platform = EmbeddedPlatform.builder()
                    .dataDir(dataDir)
                    .kafkaPort(kafkaPort)
                    .registryPort(registryPort)
                    .start();
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("llmstream platform: could not start: " + e.getMessage());
            return 1;
        }
        // On SIGTERM the JVM runs hooks and then halts without waiting for this thread, so the hook must close it.
        Thread hook = new Thread(platform::close, "llmstream-platform-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            platform.createDefaultTopics(partitions);
            PrintWriter out = spec.commandLine().getOut();
            out.println("bootstrap: " + platform.bootstrapServers());
            out.println("registry: " + platform.registryUrl());
            out.flush();
            new CountDownLatch(1).await(); // until interrupted or the JVM shuts down
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            removeHook(hook);
            platform.close();
        }
        return 0;
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down and the hook is closing the platform
        }
    }
}
