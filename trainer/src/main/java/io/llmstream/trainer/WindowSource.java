package io.llmstream.trainer;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * Where the trainer reads its windows from: a file, memory, or the {@code training-windows} topic.
 *
 * <p>The position is opaque to the trainer: it stores whatever {@link #position()} returns in each checkpoint and hands
 * it back to {@link #seek(Map)} on resume, so a Kafka source can use partition to next-offset. Sources are used by one
 * thread at a time.
 */
public interface WindowSource extends AutoCloseable {

    /** The next window, waiting for one if need be; empty once the source has ended. */
    Optional<Window> next() throws IOException;

    /** The position just after the last window {@link #next()} returned. */
    Map<String, Long> position();

    /** Repositions so that {@link #next()} continues right after {@code position}, a value {@link #position()} returned. */
    void seek(Map<String, Long> position) throws IOException;

    /**
     * Told after a checkpoint holding {@code position} is safely on disk. A Kafka source commits it to its consumer
     * group here, for lag monitoring; the checkpoint stays the source of truth on resume.
     */
    default void checkpointed(Map<String, Long> position) {}

    @Override
    default void close() throws IOException {}
}
