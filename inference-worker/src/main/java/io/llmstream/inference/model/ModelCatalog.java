package io.llmstream.inference.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models a worker has loaded: per name, the newest {@code keep} versions, newest first. Unpinned requests go to the
 * newest version of the default name; {@code name} pins the newest version of a name, {@code name:version} one version.
 * Not thread-safe: the worker's loop owns it (loading happens elsewhere; the loop installs what was loaded).
 */
public final class ModelCatalog {

    private final int keep;
    private final Map<String, Deque<DecoderModel>> byName = new LinkedHashMap<>();
    private String defaultName;

    /**
     * @param defaultName the name unpinned requests go to; null for the first name installed
     * @param keep        versions kept per name
     */
    public ModelCatalog(String defaultName, int keep) {
        this.defaultName = defaultName;
        this.keep = keep;
    }

    /**
     * Makes {@code model} the newest version of its name (a version already loaded is replaced).
     *
     * @return the versions no longer kept, for the caller to close once no job uses them
     */
    public List<DecoderModel> install(DecoderModel model) {
        Deque<DecoderModel> versions = byName.computeIfAbsent(model.name(), n -> new ArrayDeque<>());
        List<DecoderModel> retired = new ArrayList<>();
        versions.removeIf(m -> {
            boolean same = m.version().equals(model.version());
            if (same) {
                retired.add(m);
            }
            return same;
        });
        versions.addFirst(model);
        while (versions.size() > keep) {
            retired.add(versions.removeLast());
        }
        if (defaultName == null) {
            defaultName = model.name();
        }
        return retired;
    }

    /** The model serving unpinned requests, if one is loaded. */
    public DecoderModel current() {
        Deque<DecoderModel> versions = defaultName == null ? null : byName.get(defaultName);
        return versions == null ? null : versions.peekFirst();
    }

    /**
     * The model for a request's pin: null or blank for the current model, {@code name}, or {@code name:version}.
     *
     * @throws IllegalArgumentException naming the pin and what is loaded, when no loaded model matches
     */
    public DecoderModel resolve(String pin) {
        if (pin == null || pin.isBlank()) {
            DecoderModel current = current();
            if (current == null) {
                throw new IllegalArgumentException("no model '" + defaultName + "' is loaded; loaded: " + loaded());
            }
            return current;
        }
        int colon = pin.lastIndexOf(':');
        String name = colon < 0 ? pin : pin.substring(0, colon);
        Deque<DecoderModel> versions = byName.get(name);
        if (versions != null) {
            if (colon < 0) {
                return versions.peekFirst();
            }
            String version = pin.substring(colon + 1);
            for (DecoderModel m : versions) {
                if (m.version().equals(version)) {
                    return m;
                }
            }
        }
        throw new IllegalArgumentException("unknown model '" + pin + "'; loaded: " + loaded());
    }

    /** Every loaded version, as name:version. */
    public List<String> loaded() {
        List<String> ids = new ArrayList<>();
        byName.values().forEach(versions -> versions.forEach(m -> ids.add(m.id())));
        return ids;
    }

    /** Every loaded model, for closing. */
    public List<DecoderModel> all() {
        List<DecoderModel> all = new ArrayList<>();
        byName.values().forEach(all::addAll);
        return all;
    }
}
