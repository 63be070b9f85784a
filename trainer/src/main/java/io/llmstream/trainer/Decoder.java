package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;

import java.util.List;

/** What the training loop, checkpoints and exporters need of a decoder architecture ({@link Gpt}, {@link Llama}). */
public interface Decoder extends Block {

    /** The shape it was built with. */
    ModelConfig config();

    int vocabSize();

    int contextLength();

    /** Every trainable tensor once, in a fixed order (a tied output projection is the embedding matrix). */
    List<NamedParameter> namedParameters();

    /** @throws IllegalArgumentException when no parameter has that name */
    Parameter parameter(String name);

    /** Inference forward pass: (B, T) token ids to (B, T, V) logits, attached to the manager of {@code ids}. */
    NDArray logits(NDArray ids);
}
