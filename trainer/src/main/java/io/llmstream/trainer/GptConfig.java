package io.llmstream.trainer;

import java.util.List;

/**
 * Shape of a GPT-2 style decoder.
 *
 * @param vocabSize     number of token ids
 * @param contextLength longest sequence the learned position table covers
 * @param layers        number of transformer blocks
 * @param heads         attention heads per block (every head has its own keys and values: kvHeads == heads)
 * @param dModel        width of the residual stream; a multiple of {@code heads}
 * @param dFF           hidden width of the feed-forward network
 * @param dropout       dropout rate on embeddings, attention weights and residual branches while training
 * @param tieEmbeddings whether the output projection reuses the token embedding matrix
 * @param tanhGelu      whether the feed-forward GELU is the tanh approximation (HuggingFace's {@code gelu_new}, what
 *                      OpenAI's GPT-2 checkpoints use) instead of the exact erf form
 * @param classLabels   the classification head's labels in output order; empty for a model without one
 */
public record GptConfig(int vocabSize, int contextLength, int layers, int heads, int dModel, int dFF,
                        float dropout, boolean tieEmbeddings, boolean tanhGelu, List<String> classLabels)
        implements ModelConfig {

    /** {@code model.type} and the checkpoints' name of this architecture. */
    public static final String TYPE = "gpt2";

    /** LayerNorm epsilon, shared by the DJL model and the exported graph. */
    public static final float LAYER_NORM_EPS = 1e-5f;

    /** The exact-GELU model, as the trainer builds from scratch. */
    public GptConfig(int vocabSize, int contextLength, int layers, int heads, int dModel, int dFF, float dropout,
                     boolean tieEmbeddings) {
        this(vocabSize, contextLength, layers, heads, dModel, dFF, dropout, tieEmbeddings, false);
    }

    /** A language model without a classification head. */
    public GptConfig(int vocabSize, int contextLength, int layers, int heads, int dModel, int dFF, float dropout,
                     boolean tieEmbeddings, boolean tanhGelu) {
        this(vocabSize, contextLength, layers, heads, dModel, dFF, dropout, tieEmbeddings, tanhGelu, List.of());
    }

    public GptConfig {
        requirePositive("vocabSize", vocabSize);
        requirePositive("contextLength", contextLength);
        requirePositive("layers", layers);
        requirePositive("heads", heads);
        requirePositive("dModel", dModel);
        requirePositive("dFF", dFF);
        if (dModel % heads != 0) {
            throw new IllegalArgumentException("dModel " + dModel + " is not a multiple of heads " + heads);
        }
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new IllegalArgumentException("dropout must be in [0, 1): " + dropout);
        }
        classLabels = ModelConfig.checkLabels(classLabels);
    }

    /** GPT-2 proportions: dFF = 4 * dModel, no dropout, tied embeddings. */
    public static GptConfig of(int vocabSize, int contextLength, int layers, int heads, int dModel) {
        return new GptConfig(vocabSize, contextLength, layers, heads, dModel, 4 * dModel, 0f, true);
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** Every head has its own keys and values. */
    @Override
    public int kvHeads() {
        return heads;
    }

    @Override
    public GptConfig withClassLabels(List<String> labels) {
        return new GptConfig(vocabSize, contextLength, layers, heads, dModel, dFF, dropout, tieEmbeddings, tanhGelu, labels);
    }

    @Override
    public Gpt create(ai.djl.ndarray.NDManager manager, long seed) {
        return Gpt.create(this, manager, seed);
    }

    @Override
    public long parameterCount() {
        long d = dModel;
        long perBlock = 2 * 2 * d                  // ln_1, ln_2
                + d * 3 * d + 3 * d                // attn.c_attn
                + d * d + d                        // attn.c_proj
                + d * dFF + dFF                    // mlp.c_fc
                + (long) dFF * d + d;              // mlp.c_proj
        long head = tieEmbeddings ? 0 : (long) vocabSize * d;
        return (long) vocabSize * d + (long) contextLength * d + layers * perBlock + 2 * d + head
                + (long) classLabels.size() * d;
    }

    @Override
    public long matmulParameters() {
        // the position table is a lookup; wte counts as the output projection (tied) or lm_head does (untied)
        return parameterCount() - (long) contextLength * dModel - (tieEmbeddings ? 0 : (long) vocabSize * dModel);
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
    }
}
