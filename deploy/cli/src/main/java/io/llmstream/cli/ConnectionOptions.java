package io.llmstream.cli;

import io.llmstream.ops.ComponentArgs;
import io.llmstream.ops.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options every command that talks to Kafka shares: a config file, --set overrides, and --bootstrap / --registry,
 * which win over the file and the environment.
 */
public final class ConnectionOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "Properties file with this component's settings.")
    Path config;

    @Option(names = "--bootstrap", paramLabel = "SERVERS", description = "Kafka bootstrap servers (overrides kafka.bootstrap.servers).")
    String bootstrap;

    @Option(names = "--registry", paramLabel = "URL", description = "Schema registry URL (overrides schema.registry.url).")
    String registry;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one setting; repeatable. kafka.* keys go to the Kafka clients.")
    List<String> sets = new ArrayList<>();

    /** The component's settings layered over {@code defaults}. */
    public Settings settings(Map<String, String> defaults) {
        return new ComponentArgs(config, bootstrap, registry, sets).settings(defaults);
    }

    /** Settings for a plain client command (ingest, dump): only connection keys have defaults. */
    public Settings clientSettings() {
        return settings(Map.of(
                ComponentArgs.BOOTSTRAP_KEY, "127.0.0.1:9092",
                ComponentArgs.REGISTRY_KEY, "http://127.0.0.1:8081"));
    }
}
