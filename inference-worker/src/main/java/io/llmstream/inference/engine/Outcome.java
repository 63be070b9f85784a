package io.llmstream.inference.engine;

/**
 * How a {@link Job} ended: exactly one of {@code generation}, {@code classification} or {@code error} is set.
 *
 * @param startedMillis wall-clock time its computation started (for the time it spent queued)
 * @param computeNanos  time from the start of its computation to its end, batch time shared with others included
 */
public record Outcome<T>(Job<T> job, Generation generation, Classification classification, String error,
                         long startedMillis, long computeNanos) {

    public boolean ok() {
        return error == null;
    }

    /** A job that failed in a forward pass started at {@code startedNanos}. */
    static <T> Outcome<T> failed(Job<T> job, long startedMillis, long startedNanos, Exception e) {
        String reason = "inference failed on " + job.model().id() + ": " + e;
        return new Outcome<>(job, null, null, reason, startedMillis, System.nanoTime() - startedNanos);
    }
}
