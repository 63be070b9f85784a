package io.llmstream.trainer;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The shape of a decoder of one of the architectures the trainer learns; recorded in every checkpoint under
 * {@code "type"} (checkpoints written before there was a second architecture have none and are GPT-2 style).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type", defaultImpl = GptConfig.class)
@JsonSubTypes({@JsonSubTypes.Type(value = GptConfig.class, name = GptConfig.TYPE),
        @JsonSubTypes.Type(value = LlamaConfig.class, name = LlamaConfig.TYPE)})
public sealed interface ModelConfig permits GptConfig, LlamaConfig {

    /** {@code model.type}, and the architecture's name in checkpoints, manifests and genai_config.json. */
    String type();

    int vocabSize();

    int contextLength();

    /** Decoder blocks. */
    int layers();

    /** Width of the residual stream. */
    int dModel();

    /** Query heads per block. */
    int heads();

    /** Key/value heads per block: {@link #heads()} without grouped-query attention. */
    int kvHeads();

    /** Hidden width of the feed-forward network. */
    int dFF();

    default int headDim() {
        return dModel() / heads();
    }

    /**
     * Parameters that multiply activations, the N of the 6N FLOPs-per-token estimate: all but the lookup tables
     * (position embeddings; token embeddings unless tied to the output projection, which is a matmul).
     */
    long matmulParameters();

    /** Number of trainable parameters (a tied output projection counted once). */
    long parameterCount();

    /**
     * Labels of the classification head, in the order of its outputs: it reads the final hidden state of the
     * position a labelled window marks. Empty for a language model alone.
     */
    List<String> classLabels();

    /** This shape with a classification head over {@code labels} (none when empty). */
    ModelConfig withClassLabels(List<String> labels);

    /** A model of this shape with fresh initial weights drawn from the engine's generator seeded with {@code seed}. */
    Decoder create(NDManager manager, long seed);

    /** Null (a checkpoint from before heads) as none; labels must be distinct and not blank. */
    static List<String> checkLabels(List<String> labels) {
        if (labels == null) {
            return List.of();
        }
        Set<String> seen = new HashSet<>();
        for (String label : labels) {
            if (label == null || label.isBlank() || !seen.add(label)) {
                throw new IllegalArgumentException("class labels must be distinct and not blank: " + labels);
            }
        }
        return List.copyOf(labels);
    }
}
