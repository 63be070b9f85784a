package io.llmstream.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka (KRaft, combined broker + controller) running inside this JVM, listening on 127.0.0.1.
 *
 * <p>Automatic topic creation is off, as on a production cluster: topics are created explicitly (for example with
 * {@link KafkaBrokers#createTopic}), so a misspelt topic name fails fast instead of silently creating a new topic.
 *
 * <p>With no data directory the broker uses a temporary one, deleted on {@link #close()}. With a data directory the
 * broker keeps its cluster id, topics and records there, and a later start on the same directory picks them up again,
 * on the same ports when they are still free. Thread-safe.
 */
public final class EmbeddedKafka implements KafkaBrokers {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int NODE_ID = 1;
    private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(2);
    private static final String CLUSTER_ID_FILE = "cluster.id";

    private final Path dataDir;
    private final boolean temporary;
    private final String bootstrapServers;
    private final KafkaRaftServer server;
    private final Admin admin;
    private boolean closed;

    private EmbeddedKafka(Builder builder) throws IOException {
        this.temporary = builder.dataDir == null;
        this.dataDir = temporary ? Files.createTempDirectory("llmstream-kafka-") : Files.createDirectories(builder.dataDir);
        Path propsFile = dataDir.resolve(BrokerConfig.SERVER_PROPERTIES);
        String previousListeners = BrokerConfig.read(propsFile).getProperty("listeners", "");
        int brokerPort = choosePort(builder.port, previousListeners, "PLAINTEXT", -1);
        int controllerPort = choosePort(0, previousListeners, "CONTROLLER", brokerPort);
        this.bootstrapServers = "127.0.0.1:" + brokerPort;

        ExitGuard.acquire();
        KafkaRaftServer started = null;
        Admin client = null;
        try {
            Properties props = BrokerConfig.of(NODE_ID, brokerPort, controllerPort,
                    NODE_ID + "@127.0.0.1:" + controllerPort, dataDir, builder.defaultPartitions, 1);
            BrokerConfig.write(props, propsFile);
            BrokerConfig.formatStorage(clusterId(dataDir), propsFile);
            started = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            started.startup();
            client = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
            awaitReady(client);
        } catch (RuntimeException | IOException e) {
            stop(started, client);
            ExitGuard.release();
            deleteIfTemporary();
            throw e;
        }
        this.server = started;
        this.admin = client;
        log.info("Embedded Kafka ready on {} (data in {})", bootstrapServers, dataDir);
    }

    /** Starts a broker with a temporary data directory, free ports and one partition per new topic by default. */
    public static EmbeddedKafka start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The address for clients' {@code bootstrap.servers}, e.g. {@code 127.0.0.1:40123}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Where the broker keeps its data. */
    public Path dataDir() {
        return dataDir;
    }

    /** Shuts the broker down cleanly and waits for it; deletes the data directory if it was temporary. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stop(server, admin);
        ExitGuard.release();
        deleteIfTemporary();
        log.info("Embedded Kafka on {} stopped", bootstrapServers);
    }

    // The cluster id lives next to the data, so a persistent directory is formatted once and then restarts as is.
    static String clusterId(Path dataDir) throws IOException {
        Path file = dataDir.resolve(CLUSTER_ID_FILE);
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        String id = Uuid.randomUuid().toString();
        Files.writeString(file, id, StandardCharsets.UTF_8);
        return id;
    }

    private static void awaitReady(Admin admin) throws IOException {
        awaitNodes(admin, live -> !live.isEmpty(), STARTUP_TIMEOUT, "embedded Kafka");
    }

    /** Polls the cluster's live brokers until {@code ready} accepts them. */
    static void awaitNodes(Admin admin, Predicate<Collection<Node>> ready, Duration timeout, String what)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (ready.test(admin.describeCluster().nodes().get(5, TimeUnit.SECONDS))) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                log.debug("{} not ready yet: {}", what, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(what + " did not answer within " + timeout.toSeconds() + " s");
            }
            sleep(100);
        }
    }

    private static void stop(KafkaRaftServer server, Admin admin) {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
        }
    }

    private void deleteIfTemporary() {
        if (!temporary) {
            return;
        }
        try {
            Utils.delete(dataDir.toFile());
        } catch (IOException e) {
            log.warn("could not delete {}: {}", dataDir, e.toString());
        }
    }

    // An explicit port wins; otherwise the port of the previous run on this directory, if still free; else any free one.
    static int choosePort(int requested, String previousListeners, String listenerName, int taken) {
        if (requested > 0) {
            return requested;
        }
        Matcher m = Pattern.compile("\\b" + listenerName + "://[^,]*:(\\d+)").matcher(previousListeners);
        int previous = m.find() ? Integer.parseInt(m.group(1)) : -1;
        if (previous > 0 && previous != taken && FreePorts.isFree(previous)) {
            return previous;
        }
        int port = FreePorts.pick();
        while (port == taken) { // a port just released may be handed out again
            port = FreePorts.pick();
        }
        return port;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the broker", e);
        }
    }

    /** Options for {@link EmbeddedKafka}; every one has a sensible default. Not thread-safe. */
    public static final class Builder {
        private Path dataDir;
        private int port;
        private int defaultPartitions = 1;

        private Builder() {}

        /** Keep data in this directory across runs; by default a temporary directory is used and deleted on close. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** The client (PLAINTEXT) port; 0, the default, reuses the previous run's port if free, else picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            this.port = port;
            return this;
        }

        /** Partitions of topics created without an explicit count ({@code num.partitions}); default 1. */
        public Builder defaultPartitions(int partitions) {
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions must be at least 1: " + partitions);
            }
            this.defaultPartitions = partitions;
            return this;
        }

        /** Formats the storage if needed, starts the broker and returns once it answers clients. */
        public EmbeddedKafka start() {
            try {
                return new EmbeddedKafka(this);
            } catch (IOException e) {
                throw new UncheckedIOException("could not start embedded Kafka: " + e.getMessage(), e);
            }
        }
    }
}
