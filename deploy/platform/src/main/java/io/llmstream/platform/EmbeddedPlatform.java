package io.llmstream.platform;

import io.llmstream.platform.registry.EmbeddedSchemaRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything llmstream needs to run on one machine, in this JVM: a KRaft Kafka broker and a schema registry stored in
 * it. With a data directory both keep their state (and, when still free, their ports) across restarts; without one
 * everything lives in a temporary directory removed on {@link #close()}. Thread-safe.
 */
public final class EmbeddedPlatform implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPlatform.class);
    private static final String REGISTRY_PORT_FILE = "registry.port";

    private final EmbeddedKafka kafka;
    private final EmbeddedSchemaRegistry registry;

    private EmbeddedPlatform(EmbeddedKafka kafka, EmbeddedSchemaRegistry registry) {
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

    /** The broker, e.g. to create topics. */
    public EmbeddedKafka kafka() {
        return kafka;
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

        /** Starts the broker, then the registry; returns once both answer. */
        public EmbeddedPlatform start() {
            EmbeddedKafka kafka = EmbeddedKafka.builder()
                    .dataDir(dataDir == null ? null : dataDir.resolve("kafka"))
                    .port(kafkaPort)
                    .start();
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
