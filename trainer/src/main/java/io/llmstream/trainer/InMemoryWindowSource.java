package io.llmstream.trainer;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Windows from a list, read once or round and round; the position is the number of windows handed out. */
public final class InMemoryWindowSource implements WindowSource {

    private static final String KEY = "index";

    private final List<Window> windows;
    private final boolean repeat;
    private long consumed;

    public InMemoryWindowSource(List<Window> windows, boolean repeat) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("no windows");
        }
        this.windows = List.copyOf(windows);
        this.repeat = repeat;
    }

    @Override
    public Optional<Window> next() {
        if (!repeat && consumed >= windows.size()) {
            return Optional.empty();
        }
        return Optional.of(windows.get((int) (consumed++ % windows.size())));
    }

    @Override
    public Map<String, Long> position() {
        return Map.of(KEY, consumed);
    }

    @Override
    public void seek(Map<String, Long> position) {
        consumed = position.getOrDefault(KEY, 0L);
    }
}
