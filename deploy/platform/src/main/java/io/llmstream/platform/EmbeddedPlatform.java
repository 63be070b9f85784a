package io.llmstream.platform;

import io.llmstream.platform.registry.EmbeddedSchemaRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything llmstream needs to run on one machine: KRaft Kafka, by default one broker in this JVM, or a
 * {@link KafkaCluster} of N brokers each in a JVM of its own, and a schema registry (in this JVM) stored in it. With a
 * data directory both keep their state (and, when still free, their ports) across restarts; without one everything
 * lives in a temporary directory removed on {@link #close()}. Thread-safe.
 */
public final class EmbeddedPlatform implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPlatform.class);
    private static final String REGISTRY_PORT_FILE = "registry.port";

    private final KafkaBrokers kafka;
    private final EmbeddedSchemaRegistry registry;

    private EmbeddedPlatform(KafkaBrokers kafka, EmbeddedSchemaRegistry registry) {
        this.kafka = kafka;
        this.registry = registry;
    }

    /** Starts a throw-away platform on free ports. */
    public static EmbeddedPlatform start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The Kafka address for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The schema registry's base URL. */
    public String registryUrl() {
        return registry.url();
    }

    /** The brokers, e.g. to create topics. */
    public KafkaBrokers kafka() {
        return kafka;
    }

    /** The cluster of broker processes, to kill and restart them; empty for the single in-process broker. */
    public Optional<KafkaCluster> cluster() {
        return kafka instanceof KafkaCluster c ? Optional.of(c) : Optional.empty();
    }

    /**
     * Creates llmstream's default topics unless they exist ({@link TopicLayout#DEFAULT}). {@code llmstream platform}
     * calls this, so a fresh platform is ready for {@code ingest} and {@code stream}.
     */
    public void createDefaultTopics(int partitions) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
            TopicLayout.DEFAULT.create(admin, partitions);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the default topics", e);
        }
    }

    /** Stops the registry, then the broker. Idempotent. */
    @Override
    public void close() {
        try {
            registry.close();
        } finally {
            kafka.close();
        }
    }

    /** Options for {@link EmbeddedPlatform}. Not thread-safe. */
    public static final class Builder {
        private Path dataDir;
        private int kafkaPort;
        private int registryPort;
        private int brokers = 1;
        private Duration restartAfter;

        private Builder() {}

        /** Keep the broker's data and the registry's port here (the broker under {@code kafka/}); default: temporary. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** The Kafka client port; 0 (default) reuses the previous run's port when free, else picks a free one. */
        public Builder kafkaPort(int port) {
            this.kafkaPort = checkPort(port);
            return this;
        }

        /** The registry's HTTP port; 0 (default) reuses the previous run's port when free, else picks a free one. */
        public Builder registryPort(int port) {
            this.registryPort = checkPort(port);
            return this;
        }

        /**
         * 1 (default): one broker in this JVM; more: a {@link KafkaCluster} of that many broker processes (whose
         * ports are chosen up front, so {@link #kafkaPort} does not apply).
         */
        public Builder brokers(int count) {
            if (count < 1) {
                throw new IllegalArgumentException("brokers must be at least 1: " + count);
            }
            this.brokers = count;
            return this;
        }

        /** With several brokers: restart one that dies after this delay; null (default) leaves it down. */
        public Builder restartAfter(Duration delay) {
            this.restartAfter = delay;
            return this;
        }

        /** Starts the brokers, then the registry; returns once both answer. */
        public EmbeddedPlatform start() {
            Path kafkaDir = dataDir == null ? null : dataDir.resolve("kafka");
            KafkaBrokers kafka = brokers == 1 ? EmbeddedKafka.builder().dataDir(kafkaDir).port(kafkaPort).start()
                    : KafkaCluster.builder(brokers).dataDir(kafkaDir).restartAfter(restartAfter).start();
            try {
                EmbeddedSchemaRegistry registry =
                        EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), chooseRegistryPort());
                rememberRegistryPort(registry);
                return new EmbeddedPlatform(kafka, registry);
            } catch (RuntimeException e) {
                kafka.close();
                throw e;
            }
        }

        private int chooseRegistryPort() {
            if (registryPort > 0 || dataDir == null || !Files.exists(dataDir.resolve(REGISTRY_PORT_FILE))) {
                return registryPort;
            }
            try {
                int previous = Integer.parseInt(
                        Files.readString(dataDir.resolve(REGISTRY_PORT_FILE), StandardCharsets.UTF_8).trim());
                return FreePorts.isFree(previous) ? previous : 0;
            } catch (IOException | NumberFormatException e) {
                return 0; // a lost or garbled hint only costs the old port
            }
        }

        private void rememberRegistryPort(EmbeddedSchemaRegistry registry) {
            if (dataDir == null) {
                return;
            }
            try {
                String port = String.valueOf(URI.create(registry.url()).getPort());
                Files.writeString(dataDir.resolve(REGISTRY_PORT_FILE), port, StandardCharsets.UTF_8);
            } catch (IOException e) {
                log.warn("could not remember the registry port in {}: {}", dataDir, e.toString());
            }
        }

        private static int checkPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            return port;
        }
    }
}
