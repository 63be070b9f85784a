package io.llmstream.trainer;

import java.util.Arrays;
import java.util.Objects;

/**
 * One training window: {@code T + 1} token ids, of which the model reads {@code tokens[0..T)} and predicts
 * {@code tokens[1..T]}. Immutable: the ids are copied in and out.
 *
 * @param tokens   the ids
 * @param lossMask which targets count in the loss, flag i for {@code tokens[i + 1]}; null when all do. A labelled
 *                 window flags exactly one: the position whose hidden state the classification head reads
 * @param label    the class of a classification window (its loss is the head's, at the flagged position, not the
 *                 next tokens'); null for language modelling
 * @param split    whether the window trains the model or only measures it
 * @param origin   where the window came from, for error reports (e.g. {@code windows.jsonl:42}, {@code topic-0@1234})
 */
public record Window(int[] tokens, boolean[] lossMask, String label, Split split, String origin) {

    public enum Split { TRAIN, VALIDATION }

    public Window {
        tokens = tokens.clone();
        lossMask = lossMask == null ? null : lossMask.clone();
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(origin, "origin");
    }

    /** A window of plain text: every target counts. */
    public Window(int[] tokens, Split split, String origin) {
        this(tokens, null, null, split, origin);
    }

    /** A language-modelling window whose loss covers the flagged targets. */
    public Window(int[] tokens, boolean[] lossMask, Split split, String origin) {
        this(tokens, lossMask, null, split, origin);
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    @Override
    public boolean[] lossMask() {
        return lossMask == null ? null : lossMask.clone();
    }

    /** Whether target {@code i} (id {@code tokens[i + 1]}) counts in the loss. */
    boolean counts(int i) {
        return lossMask == null || lossMask[i];
    }

    /** The one position a labelled window flags, or -1 when it flags none or several. */
    int labelPosition() {
        int at = -1;
        for (int i = 0; lossMask != null && i < lossMask.length; i++) {
            if (lossMask[i]) {
                if (at >= 0) {
                    return -1;
                }
                at = i;
            }
        }
        return at;
    }

    public int length() {
        return tokens.length;
    }

    /** Copies {@code count} ids starting at {@code from} into {@code target} at {@code offset}, without a copy of the window. */
    void copyTo(int from, int count, int[] target, int offset) {
        System.arraycopy(tokens, from, target, offset, count);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Window w && Arrays.equals(tokens, w.tokens) && Arrays.equals(lossMask, w.lossMask)
                && Objects.equals(label, w.label) && split == w.split && origin.equals(w.origin);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(tokens), Arrays.hashCode(lossMask), label, split, origin);
    }

    @Override
    public String toString() {
        return "Window[" + origin + ", " + split + ", " + tokens.length + " tokens"
                + (label != null ? ", label " + label : lossMask == null ? "" : ", masked") + "]";
    }
}
