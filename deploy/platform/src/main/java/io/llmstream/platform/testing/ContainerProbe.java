package io.llmstream.platform.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.testcontainers.DockerClientFactory;

/**
 * Whether a Kafka container can start here without pulling anything. Nothing it calls may take the tests down: no
 * Docker socket is answered at once, and everything Testcontainers throws becomes a reason.
 */
final class ContainerProbe {
    private ContainerProbe() {}

    /** Null when Docker answers and {@code image} is present locally; otherwise why not. */
    static String whyUnavailable(String image) {
        if (System.getenv("DOCKER_HOST") == null && !Files.exists(Path.of("/var/run/docker.sock"))) {
            return "no Docker (no DOCKER_HOST, no /var/run/docker.sock)";
        }
        try {
            if (!DockerClientFactory.instance().isDockerAvailable()) {
                return "Docker does not answer";
            }
            boolean present = !DockerClientFactory.instance().client().listImagesCmd()
                    .withImageNameFilter(image).exec().isEmpty();
            return present ? null : "image " + image + " is not present locally (docker pull " + image + " to use it)";
        } catch (Throwable e) { // the probe itself throws where Docker runs but nothing can be pulled
            return "Docker probe failed: " + e;
        }
    }
}
