package io.llmstream.inference.engine;

/** What the {@link Scheduler} reports as it works, for metrics and benchmarks. Called on the scheduler's thread. */
public interface InferenceListener {

    InferenceListener NONE = new InferenceListener() {};

    /**
     * One forward pass.
     *
     * @param phase        {@code prefill}, {@code decode} or {@code classify}
     * @param rows         sequences in the pass
     * @param slots        attention cells of the pass: rows times the cache length after it
     * @param paddingSlots of which masked padding
     * @param nanos        time the pass took
     */
    default void onForward(String phase, int rows, long slots, long paddingSlots, long nanos) {}

    /** A generation's first token, {@code nanos} after its job was submitted. */
    default void onFirstToken(long nanos) {}

    /** Tokens generated (one per running sequence per decode step, one per newcomer per prefill). */
    default void onTokens(int count) {}
}
