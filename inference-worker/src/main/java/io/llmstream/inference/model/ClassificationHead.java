package io.llmstream.inference.model;

import java.util.List;

/**
 * A classification head a model was trained with: its label logits sit in the graph's {@code logits} at columns
 * {@code logitsOffset} to {@code logitsOffset + labels.size()}, after the vocabulary's, read at the prompt's last
 * position.
 */
public record ClassificationHead(List<String> labels, int logitsOffset) {

    public ClassificationHead {
        labels = List.copyOf(labels);
    }

    /** The column of a label's logit, or -1 when the head has no such label. */
    public int column(String label) {
        int i = labels.indexOf(label);
        return i < 0 ? -1 : logitsOffset + i;
    }
}
