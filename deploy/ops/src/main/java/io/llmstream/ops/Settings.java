package io.llmstream.ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The settings of one component, layered as the README's Configuration section describes: built-in defaults, then
 * the properties file, then environment variables ({@code LLMSTREAM_} + key upper-cased with dots as underscores),
 * then {@code --set key=value}. Keys under {@code kafka.} pass through to Kafka clients without the prefix.
 *
 * <p>Immutable. Getters name the key and the bad value when a value does not parse.
 */
public final class Settings {
    public static final String ENV_PREFIX = "LLMSTREAM_";
    public static final String KAFKA_PREFIX = "kafka.";

    private final Map<String, String> values;

    private Settings(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    public static Settings of(Map<String, String> values) {
        return new Settings(values);
    }

    /**
     * Layers defaults, an optional properties file, the environment and {@code --set} overrides. Only keys known from
     * the defaults or the file are looked up in the environment, so unrelated variables never leak in; {@code kafka.*}
     * keys may also come from the environment as {@code LLMSTREAM_KAFKA_...} (underscores become dots).
     */
    public static Settings load(Map<String, String> defaults, Path file, Map<String, String> env, List<String> sets) {
        Map<String, String> merged = new TreeMap<>(defaults);
        if (file != null) {
            merged.putAll(readProperties(file));
        }
        for (String key : List.copyOf(merged.keySet())) {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) {
                merged.put(key, fromEnv);
            }
        }
        String kafkaEnv = envName(KAFKA_PREFIX);
        env.forEach((name, value) -> {
            if (name.startsWith(kafkaEnv)) {
                String key = KAFKA_PREFIX + name.substring(kafkaEnv.length()).toLowerCase(Locale.ROOT).replace('_', '.');
                merged.putIfAbsent(key, value);
            }
        });
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set expects key=value, got '" + set + "'");
            }
            merged.put(set.substring(0, eq).trim(), set.substring(eq + 1).trim());
        }
        return new Settings(merged);
    }

    /** The environment variable that overrides {@code key}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static Map<String, String> readProperties(Path file) {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> map = new TreeMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k).trim()));
        return map;
    }

    /** Reads a properties resource from the classpath (a component's defaults). */
    public static Map<String, String> resourceDefaults(Class<?> owner, String resource) {
        Properties props = new Properties();
        try (InputStream in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing defaults resource " + resource);
            }
            props.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read defaults resource " + resource, e);
        }
        Map<String, String> map = new TreeMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k).trim()));
        return map;
    }

    /** A copy with {@code key} set (used for command-line options such as --bootstrap). */
    public Settings with(String key, String value) {
        if (value == null) {
            return this;
        }
        Map<String, String> copy = new TreeMap<>(values);
        copy.put(key, value);
        return new Settings(copy);
    }

    public Map<String, String> asMap() {
        return values;
    }

    public boolean has(String key) {
        String v = values.get(key);
        return v != null && !v.isEmpty();
    }

    public String string(String key) {
        String v = values.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing setting '" + key + "'");
        }
        return v;
    }

    public String string(String key, String fallback) {
        return has(key) ? values.get(key) : fallback;
    }

    public int integer(String key) {
        String v = string(key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    public long longValue(String key) {
        String v = string(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    public double decimal(String key) {
        String v = string(key);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting '" + key + "' must be a number, got '" + v + "'");
        }
    }

    public boolean bool(String key) {
        String v = string(key).toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException("setting '" + key + "' must be true or false, got '" + v + "'");
    }

    public <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        String v = string(key);
        try {
            return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("setting '" + key + "' must be one of "
                    + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT) + ", got '" + v + "'");
        }
    }

    /** Comma-separated list; empty when unset. */
    public List<String> list(String key) {
        if (!has(key)) {
            return List.of();
        }
        return java.util.Arrays.stream(values.get(key).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Kafka client settings: every {@code kafka.*} key without its prefix. */
    public Map<String, Object> kafka() {
        Map<String, Object> out = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(KAFKA_PREFIX)) {
                out.put(k.substring(KAFKA_PREFIX.length()), v);
            }
        });
        return out;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
