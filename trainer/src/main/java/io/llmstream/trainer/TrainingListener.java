package io.llmstream.trainer;

import java.nio.file.Path;

/** Progress callbacks from the trainer's thread; all optional. Keep them quick: the trainer waits for them. */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {};

    /** Tells {@code first}, then {@code second}, of every event. */
    static TrainingListener both(TrainingListener first, TrainingListener second) {
        return new TrainingListener() {
            @Override
            public void onStep(StepResult result) {
                first.onStep(result);
                second.onStep(result);
            }

            @Override
            public void onEvaluation(Evaluation evaluation) {
                first.onEvaluation(evaluation);
                second.onEvaluation(evaluation);
            }

            @Override
            public void onCheckpoint(long step, Path directory) {
                first.onCheckpoint(step, directory);
                second.onCheckpoint(step, directory);
            }

            @Override
            public void onRestored(long failedStep, String reason, long restoredStep) {
                first.onRestored(failedStep, reason, restoredStep);
                second.onRestored(failedStep, reason, restoredStep);
            }

            @Override
            public void onRejectedWindow(Window window, String reason) {
                first.onRejectedWindow(window, reason);
                second.onRejectedWindow(window, reason);
            }

            @Override
            public void onUndecodableRecord(String origin, String reason) {
                first.onUndecodableRecord(origin, reason);
                second.onUndecodableRecord(origin, reason);
            }
        };
    }

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
