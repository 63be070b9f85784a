package io.llmstream.trainer;

/**
 * Loss on the held-out VALIDATION windows.
 *
 * @param step       optimizer steps completed when measured
 * @param loss       mean cross-entropy, nats per token
 * @param perplexity exp(loss)
 * @param windows    how many windows it averages over
 */
public record Evaluation(long step, double loss, double perplexity, int windows) {}
