package io.llmstream.cli;

import io.llmstream.platform.EmbeddedPlatform;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code llmstream platform}: runs Kafka (one broker in this process, or a cluster of broker processes) and a schema
 * registry, prints their addresses and serves until Ctrl-C / SIGTERM (or, when run in-process, until the running
 * thread is interrupted).
 */
@Command(
        name = "platform",
        mixinStandardHelpOptions = true,
        description = {
            "Runs Kafka (KRaft) and a schema registry until stopped (Ctrl-C): one broker in this process, or with",
            "--brokers N a cluster of N brokers, each its own process (N combined broker+controller nodes, the quorum;",
            "with 3 or more, every topic at replication factor 3 and min.insync.replicas=2), so kill -9 of one is a",
            "real crash. Prints 'bootstrap: HOST:PORT[,...]', 'registry: URL' and, for a cluster, one",
            "'broker ID: port P, pid X, data DIR' line per broker once all answer."
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

    @Option(names = "--brokers", paramLabel = "N", defaultValue = "1",
            description = "Kafka brokers: 1 (default) in this process, more as a cluster of broker processes.")
    private int brokers;

    @Option(names = "--restart-after", paramLabel = "SECONDS",
            description = "With --brokers > 1: restart a broker that dies (e.g. kill -9) on its port and data after this "
                    + "many seconds (default: never).")
    private Double restartAfter;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "3",
            description = "Partitions of the default topics created on start (default: ${DEFAULT-VALUE}).")
    private int partitions;

    @Override
    public Integer call() {
        boolean restartMisused = restartAfter != null && (brokers == 1 || restartAfter < 0);
        if (brokers < 1 || (brokers > 1 && kafkaPort != 0) || restartMisused) {
            spec.commandLine().getErr().println("llmstream platform: --brokers must be at least 1; --kafka-port applies "
                    + "to one broker, --restart-after (not negative) to several");
            return 2;
        }
        EmbeddedPlatform platform;
        try {
            platform = EmbeddedPlatform.builder()
                    .dataDir(dataDir)
                    .brokers(brokers)
                    .restartAfter(restartAfter == null ? null : Duration.ofMillis(Math.round(restartAfter * 1000)))
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
            platform.cluster().ifPresent(c -> c.nodes().forEach(n -> out.println("broker " + n.id() + ": port "
                    + n.port() + ", pid " + n.pid() + ", data " + n.dataDir())));
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
