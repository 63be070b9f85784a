package io.llmstream.trainer;

/**
 * What one call of {@link Trainer#trainStep()} did.
 *
 * @param step          optimizer steps completed afterwards (after a restore: the checkpoint's step)
 * @param loss          mean cross-entropy over the step's windows, in nats per token (NaN or infinite when refused)
 * @param learningRate  learning rate of the update
 * @param gradientNorm  global L2 norm of the gradient before clipping
 * @param tokens        target ids the step trained on (0 when refused)
 * @param seconds       wall time of the step
 * @param restored      true when the step was refused as non-finite and the last checkpoint restored instead
 */
public record StepResult(long step, double loss, double learningRate, double gradientNorm, long tokens, double seconds,
                         boolean restored) {}
