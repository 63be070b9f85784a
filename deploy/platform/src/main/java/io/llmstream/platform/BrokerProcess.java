package io.llmstream.platform;

import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/**
 * The main class of one node of a {@link KafkaCluster}, a JVM of its own so that {@code kill -9} of it is a real crash:
 * formats the node's storage unless it is, runs the broker and controller, and shuts down cleanly on SIGTERM or when
 * the process that started it ends.
 * Arguments: the node's server.properties and the cluster id.
 */
public final class BrokerProcess {

    private BrokerProcess() {}

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: BrokerProcess SERVER_PROPERTIES CLUSTER_ID");
            System.exit(2);
        }
        Path propsFile = Path.of(args[0]);
        BrokerConfig.formatStorage(args[1], propsFile);
        Properties props = BrokerConfig.read(propsFile);
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
        }, "broker-shutdown"));
        // A platform killed with kill -9 cannot stop its brokers: each stops itself when its parent is gone.
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
        server.startup();
        server.awaitShutdown();
    }
}
