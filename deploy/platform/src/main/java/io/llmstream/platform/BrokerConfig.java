package io.llmstream.platform;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.tools.StorageTool;

/**
 * The server.properties of a KRaft node of ours (combined broker and controller, a static voter quorum, loopback
 * listeners, no automatic topic creation) and the storage formatting every node needs once. Replication follows the
 * cluster's size: up to three replicas of every topic, internal ones included, and with three {@code
 * min.insync.replicas=2}, so an acknowledged write survives the loss of any one broker; unclean leader election off.
 */
final class BrokerConfig {
    static final String SERVER_PROPERTIES = "server.properties";

    private BrokerConfig() {}

    /**
     * @param voters the quorum, {@code id@127.0.0.1:controllerPort} of every node, comma-separated
     * @param nodes  how many nodes the cluster has
     */
    static Properties of(int nodeId, int brokerPort, int controllerPort, String voters, Path dataDir,
                         int defaultPartitions, int nodes) {
        String replicas = String.valueOf(Math.min(3, nodes));
        String minInSync = nodes >= 3 ? "2" : "1";
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", String.valueOf(nodeId));
        // A static quorum: endpoints come from this file, so a single node may move to another port on a restart.
        p.setProperty("controller.quorum.voters", voters);
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("log.dirs", dataDir.resolve("logs").toString());
        p.setProperty("num.partitions", String.valueOf(defaultPartitions));
        p.setProperty("auto.create.topics.enable", "false");
        // Internal topics must not ask for more replicas than exist, or groups and transactions stall.
        p.setProperty("default.replication.factor", replicas);
        p.setProperty("min.insync.replicas", minInSync);
        p.setProperty("unclean.leader.election.enable", "false");
        p.setProperty("offsets.topic.replication.factor", replicas);
        p.setProperty("transaction.state.log.replication.factor", replicas);
        p.setProperty("transaction.state.log.min.isr", minInSync);
        p.setProperty("share.coordinator.state.topic.replication.factor", replicas);
        p.setProperty("share.coordinator.state.topic.min.isr", minInSync);
        // Fewer internal partitions and no rebalance delay: a cluster that starts and answers quickly.
        p.setProperty("offsets.topic.num.partitions", "1");
        p.setProperty("transaction.state.log.num.partitions", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        if (nodes > 1) {
            // A hard-killed broker is fenced (its partitions led elsewhere) after 6 s without a heartbeat, not 9.
            p.setProperty("broker.session.timeout.ms", "6000");
            p.setProperty("broker.heartbeat.interval.ms", "1000");
        }
        return p;
    }

    /** Formats a node's log directories for the cluster unless that was done before. */
    static void formatStorage(String clusterId, Path propsFile) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        String[] args = {"format", "-t", clusterId, "-c", propsFile.toString(), "--ignore-formatted"};
        int status;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            status = StorageTool.execute(args, out);
        } catch (Exception e) {
            throw new IllegalStateException("formatting Kafka storage failed: " + e.getMessage(), e);
        }
        if (status != 0) {
            throw new IllegalStateException("formatting Kafka storage failed (status " + status + "): "
                    + output.toString(StandardCharsets.UTF_8).trim());
        }
    }

    static Properties read(Path file) {
        Properties props = new Properties();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                props.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("could not read " + file, e);
            }
        }
        return props;
    }

    static void write(Properties props, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, "written by llmstream");
        }
    }
}
