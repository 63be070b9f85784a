package io.llmstream.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KRaft cluster of N nodes on loopback, each a child JVM ({@link BrokerProcess}) running a combined broker and
 * controller: the N controllers form the quorum, so with three any one may die. Ports are chosen once, up front (and
 * kept in each node's server.properties, so a data directory brings them back), so clients keep their bootstrap list
 * across restarts. Replication follows {@link BrokerConfig}: with three nodes every topic has three replicas and
 * {@code min.insync.replicas=2}.
 *
 * <p>{@link #kill} is {@code kill -9}; {@link #start(int)} brings a node back on its ports and data. With a restart
 * delay, a node that dies without being stopped here restarts by itself after it. Thread-safe.
 */
public final class KafkaCluster implements KafkaBrokers {
    private static final Logger log = LoggerFactory.getLogger(KafkaCluster.class);
    private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(30);

    /** One node: its id, client port, data directory and, while it runs, its process. */
    public static final class Node {
        private final int id;
        private final int port;
        private final Path dir;
        private Process process;
        private boolean stopping;

        private Node(int id, int port, Path dir) {
            this.id = id;
            this.port = port;
            this.dir = dir;
        }

        public int id() {
            return id;
        }

        public int port() {
            return port;
        }

        public Path dataDir() {
            return dir;
        }

        /** The OS process id, or -1 while the node is down. */
        public synchronized long pid() {
            return process != null && process.isAlive() ? process.pid() : -1;
        }
    }

    private final Path root;
    private final boolean temporary;
    private final String clusterId;
    private final List<Node> nodes = new ArrayList<>();
    private final Duration restartAfter;
    private final String bootstrapServers;
    private volatile boolean closed;

    private KafkaCluster(Builder b) throws IOException {
        this.temporary = b.dataDir == null;
        this.root = temporary ? Files.createTempDirectory("llmstream-cluster-") : Files.createDirectories(b.dataDir);
        this.clusterId = EmbeddedKafka.clusterId(root);
        this.restartAfter = b.restartAfter;
        List<Integer> taken = new ArrayList<>();
        List<int[]> ports = new ArrayList<>();
        for (int id = 1; id <= b.nodes; id++) {
            Path dir = Files.createDirectories(root.resolve("node-" + id));
            String previous = BrokerConfig.read(dir.resolve(BrokerConfig.SERVER_PROPERTIES)).getProperty("listeners", "");
            int broker = distinct(EmbeddedKafka.choosePort(0, previous, "PLAINTEXT", -1), taken);
            int controller = distinct(EmbeddedKafka.choosePort(0, previous, "CONTROLLER", broker), taken);
            ports.add(new int[] {broker, controller});
            nodes.add(new Node(id, broker, dir));
        }
        String voters = nodes.stream().map(n -> n.id + "@127.0.0.1:" + ports.get(n.id - 1)[1])
                .collect(Collectors.joining(","));
        for (Node n : nodes) {
            Properties props = BrokerConfig.of(n.id, ports.get(n.id - 1)[0], ports.get(n.id - 1)[1], voters, n.dir,
                    b.defaultPartitions, b.nodes);
            BrokerConfig.write(props, n.dir.resolve(BrokerConfig.SERVER_PROPERTIES));
        }
        this.bootstrapServers = nodes.stream().map(n -> "127.0.0.1:" + n.port).collect(Collectors.joining(","));
        try {
            for (Node n : nodes) {
                launch(n);
            }
            try (Admin admin = admin(bootstrapServers)) {
                EmbeddedKafka.awaitNodes(admin, live -> live.size() >= b.nodes, STARTUP_TIMEOUT,
                        "the cluster of " + b.nodes + " nodes");
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        log.info("Kafka cluster of {} nodes ready on {} (data in {})", b.nodes, bootstrapServers, root);
    }

    public static Builder builder(int nodes) {
        return new Builder(nodes);
    }

    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    public Node node(int id) {
        if (id < 1 || id > nodes.size()) {
            throw new IllegalArgumentException("no node " + id + " in a cluster of " + nodes.size());
        }
        return nodes.get(id - 1);
    }

    /** {@code kill -9} of a node: no shutdown, no flush. Returns at once; see {@link #awaitDown}. */
    public void kill(int id) {
        Node n = node(id);
        synchronized (n) {
            if (n.process != null) {
                n.process.destroyForcibly();
            }
        }
    }

    /**
     * A clean shutdown of one node (SIGTERM), waited for (killed after 30 s); it stays down until {@link #start(int)}.
     */
    public void stop(int id) {
        Node n = node(id);
        Process p;
        synchronized (n) {
            n.stopping = true;
            p = n.process;
        }
        if (p != null) {
            p.destroy();
            awaitExitOrKill(p, System.nanoTime() + SHUTDOWN_GRACE.toNanos());
        }
    }

    /** Starts a node that is down, on its ports and data, and waits until the cluster counts it again. */
    public void start(int id) throws IOException {
        Node n = node(id);
        synchronized (n) {
            if (n.process != null && n.process.isAlive()) {
                return;
            }
            launch(n);
        }
        awaitRegistered(n);
    }

    /** Waits until a killed node's process is gone. */
    public void awaitDown(int id) {
        Process p;
        synchronized (node(id)) {
            p = node(id).process;
        }
        if (p != null) {
            awaitExit(p);
        }
    }

    /** Stops every node cleanly (killing any still up after 30 s); deletes the data if it was temporary. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Process> running = new ArrayList<>();
        for (Node n : nodes) {
            synchronized (n) {
                n.stopping = true;
                if (n.process != null) {
                    n.process.destroy();
                    running.add(n.process);
                }
            }
        }
        // A node whose quorum left first may wait for it forever in its controlled shutdown: past the grace, kill it.
        long deadline = System.nanoTime() + SHUTDOWN_GRACE.toNanos();
        for (Process p : running) {
            awaitExitOrKill(p, deadline);
        }
        if (temporary) {
            try {
                Utils.delete(root.toFile());
            } catch (IOException e) {
                log.warn("could not delete {}: {}", root, e.toString());
            }
        }
        log.info("Kafka cluster on {} stopped", bootstrapServers);
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    /** Asks the node itself, so a node the cluster has not yet fenced after a kill does not count as back. */
    private void awaitRegistered(Node n) throws IOException {
        try (Admin admin = admin("127.0.0.1:" + n.port)) {
            EmbeddedKafka.awaitNodes(admin, live -> live.stream().anyMatch(x -> x.id() == n.id), STARTUP_TIMEOUT,
                    "node " + n.id);
        }
    }

    /** Runs the node's JVM, its output appended to broker.log beside its data; called holding the node's lock. */
    private void launch(Node n) throws IOException {
        n.process = JavaProcess.start(BrokerProcess.class,
                List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                List.of(n.dir.resolve(BrokerConfig.SERVER_PROPERTIES).toString(), clusterId),
                n.dir.resolve("broker.log"));
        n.stopping = false;
        Process started = n.process;
        log.info("node {} started: port {}, pid {}, data {}", n.id, n.port, started.pid(), n.dir);
        started.onExit().thenRun(() -> exited(n, started));
    }

    private void exited(Node n, Process p) {
        boolean restart;
        synchronized (n) {
            restart = !closed && !n.stopping && restartAfter != null && n.process == p;
        }
        log.info("node {} (pid {}) exited with {}{}", n.id, p.pid(), p.exitValue(),
                restart ? "; restarting in " + restartAfter.toMillis() + " ms" : "");
        if (!restart) {
            return;
        }
        Thread restarter = new Thread(() -> {
            EmbeddedKafka.sleep(restartAfter.toMillis());
            synchronized (n) {
                if (closed || n.stopping || n.process != p) {
                    return;
                }
                try {
                    launch(n);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not restart node " + n.id, e);
                }
            }
        }, "restart-node-" + n.id);
        restarter.setDaemon(true);
        restarter.start();
    }

    /** Waits for a process told to stop until {@code deadline} ({@link System#nanoTime}), then kills it. */
    private static void awaitExitOrKill(Process p, long deadline) {
        boolean exited;
        try {
            exited = p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a broker to exit", e);
        }
        if (!exited) {
            log.warn("node process {} did not stop within {} s; killing it", p.pid(), SHUTDOWN_GRACE.toSeconds());
            p.destroyForcibly();
            awaitExit(p);
        }
    }

    private static void awaitExit(Process p) {
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a broker to exit", e);
        }
    }

    private static int distinct(int port, List<Integer> taken) {
        while (taken.contains(port)) {
            port = FreePorts.pick();
        }
        taken.add(port);
        return port;
    }

    /** Options for {@link KafkaCluster}. Not thread-safe. */
    public static final class Builder {
        private final int nodes;
        private Path dataDir;
        private int defaultPartitions = 1;
        private Duration restartAfter;

        private Builder(int nodes) {
            if (nodes < 1) {
                throw new IllegalArgumentException("a cluster needs at least one node: " + nodes);
            }
            this.nodes = nodes;
        }

        /** Keep every node's data (and ports) under {@code dir/node-N}; by default a temporary directory. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        public Builder defaultPartitions(int partitions) {
            this.defaultPartitions = partitions;
            return this;
        }

        /** Restart a node that dies (not stopped here) after this delay; null (default) leaves it down. */
        public Builder restartAfter(Duration delay) {
            this.restartAfter = delay;
            return this;
        }

        /** Starts every node and returns once all of them answer as brokers. */
        public KafkaCluster start() {
            try {
                return new KafkaCluster(this);
            } catch (IOException e) {
                throw new UncheckedIOException("could not start the Kafka cluster: " + e.getMessage(), e);
            }
        }
    }
}
