package io.llmstream.ops;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The command line every component's own {@code main} takes (the container entry points):
 * {@code [--config FILE] [--bootstrap SERVERS] [--registry URL] [--set key=value]...}. The {@code llmstream} CLI offers
 * the same options through picocli and ends in {@link #settings}.
 */
public record ComponentArgs(Path config, String bootstrap, String registry, List<String> sets) {
    public static final String BOOTSTRAP_KEY = "kafka.bootstrap.servers";
    public static final String REGISTRY_KEY = "schema.registry.url";

    public static ComponentArgs parse(String... args) {
        Path config = null;
        String bootstrap = null;
        String registry = null;
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + flag + " needs a value");
            }
            String value = args[++i];
            switch (flag) {
                case "--config" -> config = Path.of(value);
                case "--bootstrap" -> bootstrap = value;
                case "--registry" -> registry = value;
                case "--set" -> sets.add(value);
                default -> throw new IllegalArgumentException("unknown option " + flag
                        + " (expected --config, --bootstrap, --registry or --set)");
            }
        }
        return new ComponentArgs(config, bootstrap, registry, sets);
    }

    /** The command line that gives a component these settings: {@code --set key=value} for each. */
    public static List<String> of(Map<String, String> settings) {
        List<String> args = new ArrayList<>(2 * settings.size());
        settings.forEach((key, value) -> {
            args.add("--set");
            args.add(key + "=" + value);
        });
        return args;
    }

    /** Defaults, then the file, the environment, --set, and last --bootstrap/--registry (the most specific). */
    public Settings settings(Map<String, String> defaults) {
        return Settings.load(defaults, config, System.getenv(), sets)
                .with(BOOTSTRAP_KEY, bootstrap)
                .with(REGISTRY_KEY, registry);
    }
}
