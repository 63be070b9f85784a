package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

import java.util.List;

/** What the training loop, checkpoints and exporters need of a decoder architecture ({@link Gpt}, {@link Llama}). */
public interface Decoder extends Block {

    /** The classification head's weight, (classLabels, dModel), HuggingFace's name for it in every architecture. */
    String CLASS_HEAD = "score.weight";

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

    /** (B, T) token ids to the final normalized hidden states (B, T, dModel), before any output projection. */
    NDArray hiddenStates(ParameterStore ps, NDArray ids, boolean training);

    /** Hidden states (..., dModel) to next-token logits (..., vocabSize). */
    NDArray vocabularyLogits(ParameterStore ps, NDArray hidden, boolean training);

    /**
     * Hidden states (..., dModel) to the classification head's logits (..., classLabels).
     *
     * @throws IllegalArgumentException when the model has no head
     */
    default NDArray classLogits(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray head = ps.getValue(parameter(CLASS_HEAD), hidden.getDevice(), training);
        return Linear.linear(hidden, head).singletonOrThrow();
    }

    /**
     * What the forward pass returns and the exported graph's {@code logits} hold: the vocabulary's logits followed,
     * when the model has a classification head, by the head's (so the worker serves one graph for both tasks).
     */
    default NDList outputs(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray logits = vocabularyLogits(ps, hidden, training);
        return new NDList(config().classLabels().isEmpty() ? logits
                : logits.concat(classLogits(ps, hidden, training), -1));
    }

    /** Width of {@link #outputs}' last axis. */
    default int outputWidth() {
        return vocabSize() + config().classLabels().size();
    }

    /** Inference forward pass: (B, T) token ids to (B, T, {@link #outputWidth}) logits, attached to the manager of {@code ids}. */
    default NDArray logits(NDArray ids) {
        return forward(new ParameterStore(ids.getManager(), false), new NDList(ids), false).singletonOrThrow();
    }
}
