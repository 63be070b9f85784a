package io.llmstream.trainer;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Passes windows through and notes the origin of each one handed out. */
public final class RecordingSource implements WindowSource {

    private final WindowSource delegate;
    private final List<String> seen;

    public RecordingSource(WindowSource delegate, List<String> seen) {
        this.delegate = delegate;
        this.seen = seen;
    }

    @Override
    public Optional<Window> next() throws IOException {
        Optional<Window> w = delegate.next();
        w.ifPresent(window -> seen.add(window.origin()));
        return w;
    }

    @Override
    public Map<String, Long> position() {
        return delegate.position();
    }

    @Override
    public void seek(Map<String, Long> position) throws IOException {
        delegate.seek(position);
    }

    @Override
    public void checkpointed(Map<String, Long> position) {
        delegate.checkpointed(position);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
