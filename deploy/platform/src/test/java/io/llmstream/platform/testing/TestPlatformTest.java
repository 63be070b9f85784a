package io.llmstream.platform.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TestPlatformTest {
    private final String previous = System.getProperty(TestPlatform.BACKEND_PROPERTY);

    @AfterEach
    void restore() {
        if (previous == null) {
            System.clearProperty(TestPlatform.BACKEND_PROPERTY);
        } else {
            System.setProperty(TestPlatform.BACKEND_PROPERTY, previous);
        }
    }

    @Test
    void withoutDockerTheProbeGivesAReasonInsteadOfThrowing() {
        assumeTrue(System.getenv("DOCKER_HOST") == null && !Files.exists(Path.of("/var/run/docker.sock")),
                "Docker may be here; the fallback is what this test is about");
        assertThat(ContainerProbe.whyUnavailable(TestPlatform.KAFKA_IMAGE)).contains("no Docker");
        System.setProperty(TestPlatform.BACKEND_PROPERTY, "testcontainers");
        assertThatThrownBy(TestPlatform::start).hasMessageContaining("testcontainers").hasMessageContaining("no Docker");
        System.setProperty(TestPlatform.BACKEND_PROPERTY, "auto");
        try (TestPlatform platform = TestPlatform.start()) {
            assertThat(platform.backend()).isEqualTo("embedded");
            platform.createTopic("probe", 1);
            platform.createTopic("probe", 1); // exists already: not an error
        }
    }

    @Test
    void anUnknownBackendIsRefusedByName() {
        System.setProperty(TestPlatform.BACKEND_PROPERTY, "kubernetes");
        assertThatThrownBy(TestPlatform::start).hasMessageContaining("kubernetes").hasMessageContaining("auto");
    }
}
