package io.llmstream.trainer;

import java.nio.file.Path;

/** Progress callbacks from the trainer's thread; all optional. Keep them quick: the trainer waits for them. */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {};

    default void onStep(StepResult result) {}

    default void onEvaluation(Evaluation evaluation) {}

    default void onCheckpoint(long step, Path directory) {}

    /** A step was refused as non-finite and training went back to the checkpoint of {@code restoredStep}. */
    default void onRestored(long failedStep, String reason, long restoredStep) {}

    /**
     * A window that must not be trained on (another tokenizer's ids, wrong length, id outside the vocabulary) was
     * skipped.
     */
    default void onRejectedWindow(Window window, String reason) {}

    /** A record that is not a window at all (undecodable bytes) was skipped, and dead-lettered where configured. */
    default void onUndecodableRecord(String origin, String reason) {}
}
