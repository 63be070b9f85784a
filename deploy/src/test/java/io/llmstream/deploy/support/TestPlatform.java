package io.llmstream.deploy.support;

import io.llmstream.deploy.platform.EmbeddedPlatform;

/**
 * The Kafka broker and schema registry that system tests run against, chosen by the system property
 * {@value #BACKEND_PROPERTY}: {@code embedded} (the default) runs {@link EmbeddedPlatform} in the test JVM.
 *
 * <p>{@code testcontainers} is reserved for a Kafka container with the embedded registry on top of it; this build has no
 * Testcontainers dependency, so asking for it fails at once with a clear message instead of probing Docker.
 */
public final class TestPlatform implements AutoCloseable {
    public static final String BACKEND_PROPERTY = "llmstream.test.backend";

    private final EmbeddedPlatform platform;

    private TestPlatform(EmbeddedPlatform platform) {
        this.platform = platform;
    }

    /** Starts the backend named by {@value #BACKEND_PROPERTY}. */
    public static TestPlatform start() {
        String backend = System.getProperty(BACKEND_PROPERTY, "embedded").trim();
        return switch (backend) {
            case "embedded" -> new TestPlatform(EmbeddedPlatform.start());
            case "testcontainers" -> throw new IllegalStateException("-D" + BACKEND_PROPERTY
                    + "=testcontainers: this build has no Testcontainers backend; use 'embedded'");
            default -> throw new IllegalArgumentException("-D" + BACKEND_PROPERTY + "=" + backend
                    + ": unknown backend; use 'embedded'");
        };
    }

    public String bootstrapServers() {
        return platform.bootstrapServers();
    }

    public String registryUrl() {
        return platform.registryUrl();
    }

    /** Creates a topic (replication factor 1) unless it exists; the same call works against any backend. */
    public void createTopic(String name, int partitions) {
        platform.kafka().createTopic(name, partitions, java.util.Map.of());
    }

    @Override
    public void close() {
        platform.close();
    }
}
