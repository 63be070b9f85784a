package io.llmstream.platform.testing;

import io.llmstream.platform.EmbeddedPlatform;
import io.llmstream.platform.TopicLayout;
import io.llmstream.platform.registry.EmbeddedSchemaRegistry;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The Kafka broker and schema registry that system tests run against, chosen by the system property
 * {@value #BACKEND_PROPERTY}:
 * <ul>
 *   <li>{@code auto} (the default): a Kafka container (Testcontainers, image {@value #KAFKA_IMAGE}) when Docker answers
 *       and the image is already there, else the embedded broker; the embedded registry either way.</li>
 *   <li>{@code embedded}: {@link EmbeddedPlatform} in the test JVM, without looking for Docker.</li>
 *   <li>{@code testcontainers}: the container, or a failure saying why not.</li>
 * </ul>
 * The image must be present because pulling it (or Testcontainers' own helper image) where no registry is reachable
 * retries for minutes and can throw from the availability probe itself; the probe catches everything.
 */
public final class TestPlatform implements AutoCloseable {
    public static final String BACKEND_PROPERTY = "llmstream.test.backend";
    static final String KAFKA_IMAGE = "apache/kafka:4.1.0";
    private static final Logger log = LoggerFactory.getLogger(TestPlatform.class);

    private final String bootstrapServers;
    private final EmbeddedSchemaRegistry containerRegistry;
    private final AutoCloseable broker;
    private final String registryUrl;
    private final String backend;

    private TestPlatform(String backend, String bootstrapServers, String registryUrl, AutoCloseable broker,
                         EmbeddedSchemaRegistry containerRegistry) {
        this.backend = backend;
        this.bootstrapServers = bootstrapServers;
        this.registryUrl = registryUrl;
        this.broker = broker;
        this.containerRegistry = containerRegistry;
    }

    /** Starts the backend named by {@value #BACKEND_PROPERTY}. */
    public static TestPlatform start() {
        String choice = System.getProperty(BACKEND_PROPERTY, "auto").trim();
        return switch (choice) {
            case "embedded" -> embedded();
            case "testcontainers" -> {
                String unavailable = ContainerProbe.whyUnavailable(KAFKA_IMAGE);
                if (unavailable != null) {
                    throw new IllegalStateException("-D" + BACKEND_PROPERTY + "=testcontainers: " + unavailable);
                }
                yield container();
            }
            case "auto" -> {
                String unavailable = ContainerProbe.whyUnavailable(KAFKA_IMAGE);
                if (unavailable != null) {
                    log.info("system tests on the embedded broker: {}", unavailable);
                    yield embedded();
                }
                yield container();
            }
            default -> throw new IllegalArgumentException("-D" + BACKEND_PROPERTY + "=" + choice
                    + ": unknown backend; use auto, embedded or testcontainers");
        };
    }

    private static TestPlatform embedded() {
        EmbeddedPlatform platform = EmbeddedPlatform.start();
        return new TestPlatform("embedded", platform.bootstrapServers(), platform.registryUrl(), platform, null);
    }

    private static TestPlatform container() {
        KafkaContainer kafka = new KafkaContainer(KAFKA_IMAGE);
        kafka.start();
        try {
            EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(kafka.getBootstrapServers());
            return new TestPlatform("testcontainers", kafka.getBootstrapServers(), registry.url(), kafka::stop, registry);
        } catch (RuntimeException e) {
            kafka.stop();
            throw e;
        }
    }

    /** {@code embedded} or {@code testcontainers}: what these tests ran on. */
    public String backend() {
        return backend;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String registryUrl() {
        return registryUrl;
    }

    /** Creates a topic (replication factor 1) unless it exists; the same call works against either backend. */
    public void createTopic(String name, int partitions) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            TopicLayout.createMissing(admin, List.of(new NewTopic(name, partitions, (short) 1)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic '" + name + "'", e);
        }
    }

    @Override
    public void close() {
        try {
            if (containerRegistry != null) {
                containerRegistry.close();
            }
        } finally {
            try {
                broker.close();
            } catch (Exception e) {
                throw new IllegalStateException("could not stop the " + backend + " broker", e);
            }
        }
    }
}
