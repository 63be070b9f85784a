package io.llmstream.inference.engine;

import java.util.Map;

/**
 * Which label fits a prompt best.
 *
 * @param label           the label with the highest score
 * @param probabilities   every label's probability, normalised over the labels: softmax of the scores
 * @param scores          every label's log-probability: the classification head's, normalised over the candidates,
 *                        or (label scoring) the sum over its tokens, each given the prompt and the label's earlier
 *                        tokens
 * @param promptTokens    prompt tokens fed to the model, after truncation
 * @param promptTruncated whether the prompt lost tokens on the left so that the longest label fits the context
 * @param byHead          whether the model's classification head answered, rather than label scoring
 */
public record Classification(String label, Map<String, Double> probabilities, Map<String, Double> scores,
                             int promptTokens, boolean promptTruncated, boolean byHead) {

    public Classification {
        probabilities = Map.copyOf(probabilities);
        scores = Map.copyOf(scores);
    }
}
