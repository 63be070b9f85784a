package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

import java.util.List;

/** What the training loop, checkpoints and exporters need of a decoder architecture ({@link Gpt}, {@link Llama}). */
public interface Decoder extends Block {

    /** The shape it was built with. */
    ModelConfig config();

    default int vocabSize() {
        return config().vocabSize();
    }

    default int contextLength() {
        return config().contextLength();
    }

    /** Every trainable tensor once, in a fixed order (a tied output projection is the embedding matrix). */
    List<NamedParameter> namedParameters();

    /** @throws IllegalArgumentException when no parameter has that name */
    default Parameter parameter(String name) {
        return namedParameters().stream().filter(p -> p.name().equals(name)).findFirst()
                .map(NamedParameter::parameter)
                .orElseThrow(() -> new IllegalArgumentException("no parameter named " + name));
    }

    /** Inference forward pass: (B, T) token ids to (B, T, V) logits, attached to the manager of {@code ids}. */
    default NDArray logits(NDArray ids) {
        return forward(new ParameterStore(ids.getManager(), false), new NDList(ids), false).singletonOrThrow();
    }
}
