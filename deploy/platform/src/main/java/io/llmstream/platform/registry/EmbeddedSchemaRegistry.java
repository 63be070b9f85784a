package io.llmstream.platform.registry;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible schema registry (the REST subset llmstream uses) on 127.0.0.1, storing its schemas and
 * settings in the compacted Kafka topic {@code _schemas}. Every change is acknowledged by Kafka before the HTTP answer,
 * and a registry started later on the same cluster reads the topic back: ids, versions and levels survive restarts.
 * Only one registry should write to a cluster's {@code _schemas} at a time. Thread-safe.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);
    private static final int THREADS = 4;

    private final SchemaTopic topic;
    private final HttpServer server;
    private final ExecutorService executor;
    private final String url;
    private boolean closed;

    private EmbeddedSchemaRegistry(String bootstrapServers, int port) throws IOException {
        this.topic = new SchemaTopic(bootstrapServers, SchemaTopic.DEFAULT_NAME, SchemaTopic.DEFAULT_TIMEOUT);
        DurableRegistry registry;
        try {
            registry = new DurableRegistry(topic);
            this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        } catch (IOException | RuntimeException e) {
            topic.close();
            throw e;
        }
        this.executor = Executors.newFixedThreadPool(THREADS, daemonThreads());
        server.createContext("/", new RegistryHttpHandler(registry));
        server.setExecutor(executor);
        server.start();
        this.url = "http://127.0.0.1:" + server.getAddress().getPort();
        log.info("Schema registry ready on {} (stored in Kafka at {})", url, bootstrapServers);
    }

    /** Starts a registry on a free port, backed by the Kafka cluster at {@code bootstrapServers}. */
    public static EmbeddedSchemaRegistry start(String bootstrapServers) {
        return start(bootstrapServers, 0);
    }

    /**
     * Starts a registry on {@code port} (0 for a free one): creates {@code _schemas} if missing, restores the state from
     * it, then serves HTTP.
     */
    public static EmbeddedSchemaRegistry start(String bootstrapServers, int port) {
        try {
            return new EmbeddedSchemaRegistry(bootstrapServers, port);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the schema registry on port " + port, e);
        }
    }

    /** The base URL, e.g. {@code http://127.0.0.1:40124}. */
    public String url() {
        return url;
    }

    /** Stops serving (requests in progress get a moment to finish) and closes the Kafka producer. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(1);
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        topic.close();
        log.info("Schema registry on {} stopped", url);
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, "schema-registry-http-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
