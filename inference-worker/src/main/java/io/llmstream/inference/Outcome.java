package io.llmstream.inference;

/**
 * How a {@link Task} ended: exactly one of {@code generation}, {@code classification} or {@code error} is set.
 *
 * @param startedMillis wall-clock time its computation started (for the time it spent queued)
 * @param computeNanos  time from the start of its computation to its end, batch time shared with others included
 */
public record Outcome<T>(Task<T> task, Generation generation, Classification classification, String error,
                         long startedMillis, long computeNanos) {

    public boolean ok() {
        return error == null;
    }
}
