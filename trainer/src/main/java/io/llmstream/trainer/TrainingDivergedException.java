package io.llmstream.trainer;

/** Training produced NaN or infinity and going back to the last checkpoint did not get past it. */
public final class TrainingDivergedException extends RuntimeException {

    public TrainingDivergedException(String message) {
        super(message);
    }
}
