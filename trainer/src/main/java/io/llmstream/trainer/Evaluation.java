package io.llmstream.trainer;

/**
 * Loss (and, for classification, accuracy) on the held-out VALIDATION windows.
 *
 * @param step       optimizer steps completed when measured
 * @param loss       mean cross-entropy, nats per token
 * @param perplexity exp(loss)
 * @param accuracy   share of the labelled windows the classification head gets right; NaN when none is labelled
 * @param windows    how many windows it averages over
 */
public record Evaluation(long step, double loss, double perplexity, double accuracy, int windows) {}
