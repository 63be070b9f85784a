package io.llmstream.trainer;

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
 */
public record LlamaConfig(int vocabSize, int contextLength, int layers, int heads, int kvHeads, int dModel, int dFF,
                          double ropeTheta, float rmsNormEps, boolean qkvBias, boolean tieEmbeddings) implements ModelConfig {

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
    }

    @Override
    public String type() {
        return TYPE;
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
        return (long) vocabSize * d * (tieEmbeddings ? 1 : 2) + layers * perLayer + d;
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
