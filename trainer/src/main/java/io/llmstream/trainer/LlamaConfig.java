package io.llmstream.trainer;

import java.util.List;

/**
 * Shape of a Llama-style decoder (also Qwen2's and Mistral's without a sliding window).
 *
 * @param vocabSize     number of token ids
 * @param contextLength longest sequence the model is trained or served at (rotary positions have no table limit)
 * @param layers        number of decoder layers
 * @param heads         query heads per layer
 * @param kvHeads       key/value heads per layer (grouped-query attention); divides {@code heads}
 * @param dModel        width of the residual stream; a multiple of {@code heads}
 * @param dFF           hidden width of the SwiGLU feed-forward network
 * @param ropeTheta     base of the rotary position frequencies
 * @param rmsNormEps    epsilon of every RMSNorm
 * @param qkvBias       whether the q, k and v projections add a bias (Qwen2 does)
 * @param tieEmbeddings whether the output projection reuses the token embedding matrix
 * @param classLabels   the classification head's labels in output order; empty for a model without one
 */
public record LlamaConfig(int vocabSize, int contextLength, int layers, int heads, int kvHeads, int dModel, int dFF,
                          double ropeTheta, float rmsNormEps, boolean qkvBias, boolean tieEmbeddings,
                          List<String> classLabels) implements ModelConfig {

    /** {@code model.type} and the checkpoints' name of this architecture. */
    public static final String TYPE = "llama";

    public LlamaConfig {
        requirePositive("vocabSize", vocabSize);
        requirePositive("contextLength", contextLength);
        requirePositive("layers", layers);
        requirePositive("heads", heads);
        requirePositive("kvHeads", kvHeads);
        requirePositive("dModel", dModel);
        requirePositive("dFF", dFF);
        if (dModel % heads != 0 || (dModel / heads) % 2 != 0) {
            throw new IllegalArgumentException("dModel " + dModel + " is not an even head width times heads " + heads);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("kvHeads " + kvHeads + " does not divide heads " + heads);
        }
        if (!(ropeTheta > 1) || !(rmsNormEps > 0)) {
            throw new IllegalArgumentException("ropeTheta must exceed 1 and rmsNormEps be positive: " + ropeTheta
                    + ", " + rmsNormEps);
        }
        classLabels = ModelConfig.checkLabels(classLabels);
    }

    /** A language model without a classification head. */
    public LlamaConfig(int vocabSize, int contextLength, int layers, int heads, int kvHeads, int dModel, int dFF,
                       double ropeTheta, float rmsNormEps, boolean qkvBias, boolean tieEmbeddings) {
        this(vocabSize, contextLength, layers, heads, kvHeads, dModel, dFF, ropeTheta, rmsNormEps, qkvBias,
                tieEmbeddings, List.of());
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public LlamaConfig withClassLabels(List<String> labels) {
        return new LlamaConfig(vocabSize, contextLength, layers, heads, kvHeads, dModel, dFF, ropeTheta, rmsNormEps,
                qkvBias, tieEmbeddings, labels);
    }

    @Override
    public Llama create(ai.djl.ndarray.NDManager manager, long seed) {
        return Llama.create(this, manager, seed);
    }

    @Override
    public long parameterCount() {
        long d = dModel;
        long kv = (long) kvHeads * headDim();
        long perLayer = 2 * d                                  // the two RMSNorms
                + d * d + 2 * d * kv + (qkvBias ? d + 2 * kv : 0) // q, k, v
                + d * d                                        // o
                + 3 * d * dFF;                                 // gate, up, down
        return (long) vocabSize * d * (tieEmbeddings ? 1 : 2) + layers * perLayer + d + (long) classLabels.size() * d;
    }

    @Override
    public long matmulParameters() {
        // untied, embed_tokens is a lookup and lm_head the projection; tied, the one matrix is both
        return parameterCount() - (tieEmbeddings ? 0 : (long) vocabSize * dModel);
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
    }
}
