package io.llmstream.inference.engine;

import io.llmstream.inference.model.ClassificationHead;
import io.llmstream.inference.model.DecoderModel;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * One unit of work for the {@link Scheduler}: generate after a prompt, or pick the label that best continues it. Built
 * through {@link #generate} or {@link #classify}, which check the request against the model and throw
 * {@link IllegalArgumentException} with the reason when it cannot be served.
 *
 * @param tag         the caller's handle, returned with the outcome
 * @param model       the model that serves it
 * @param promptIds   the prompt's token ids (cut on the left later if it does not fit)
 * @param sampling    decoding settings; null for a classification
 * @param labels      the candidate labels, tokenized by the model's tokenizer; null for a generation
 * @param submitNanos {@link System#nanoTime()} when the job was made, for time-to-first-token
 */
public record Job<T>(T tag, DecoderModel model, int[] promptIds, Sampling sampling, List<Label> labels,
                      long submitNanos) {

    /**
     * A candidate label, its token ids and its column in the logits of the model's classification head (-1 when the
     * model has no head or the head no such label).
     */
    public record Label(String text, int[] ids, int headColumn) {}

    public Job {
        Objects.requireNonNull(model, "model");
        if ((sampling == null) == (labels == null)) {
            throw new IllegalArgumentException("a job either generates (sampling) or classifies (labels)");
        }
    }

    /** A generation, checked against the model: non-empty prompt and ids in the vocabulary, room to generate. */
    public static <T> Job<T> generate(T tag, DecoderModel model, int[] promptIds, Sampling sampling) {
        checkPrompt(model, promptIds);
        Objects.requireNonNull(sampling, "sampling");
        sampling.checkIds(model.vocabSize());
        if (sampling.maxNewTokens() >= model.contextLength()) {
            throw new IllegalArgumentException("maxNewTokens " + sampling.maxNewTokens() + " leaves no room for the prompt in the context of "
                    + model.contextLength() + " tokens (at most " + (model.contextLength() - 1) + ")");
        }
        return new Job<>(tag, model, promptIds.clone(), sampling, null, System.nanoTime());
    }

    /**
     * A classification, checked against the model: non-empty prompt and distinct non-empty labels that fit the
     * context. Without labels, a model with a classification head picks among the head's.
     */
    public static <T> Job<T> classify(T tag, DecoderModel model, int[] promptIds, List<String> labels) {
        checkPrompt(model, promptIds);
        ClassificationHead head = model.classificationHead().orElse(null);
        if ((labels == null || labels.isEmpty()) && head != null) {
            labels = head.labels();
        }
        if (labels == null || labels.isEmpty()) {
            throw new IllegalArgumentException("a classification needs at least one label (" + model.id()
                    + " has no classification head to offer its own)");
        }
        if (new HashSet<>(labels).size() != labels.size()) {
            throw new IllegalArgumentException("labels must be distinct: " + labels);
        }
        List<Label> tokenized = new ArrayList<>();
        for (String label : labels) {
            int[] ids = label == null ? new int[0] : model.tokenizer().encode(label);
            if (ids.length == 0) {
                throw new IllegalArgumentException("label '" + label + "' is empty");
            }
            if (ids.length >= model.contextLength()) {
                throw new IllegalArgumentException("label '" + label + "' has " + ids.length
                        + " tokens, more than the context of " + model.contextLength() + " leaves for a prompt");
            }
            tokenized.add(new Label(label, ids, head == null ? -1 : head.column(label)));
        }
        return new Job<>(tag, model, promptIds.clone(), null, List.copyOf(tokenized), System.nanoTime());
    }

    public boolean isGeneration() {
        return sampling != null;
    }

    /**
     * Whether the model's classification head answers: it has every candidate label. One forward pass over the
     * prompt then reads them all; otherwise each label is scored by its tokens' log-probability.
     */
    boolean answeredByHead() {
        return labels != null && labels.stream().allMatch(l -> l.headColumn() >= 0);
    }

    /**
     * The prompt tokens kept: the last ones, so that the generation or the longest label fits the context (the
     * whole context when the head answers, as no label tokens follow).
     */
    int promptBudget() {
        if (sampling != null) {
            return model.contextLength() - sampling.maxNewTokens();
        }
        if (answeredByHead()) {
            return model.contextLength();
        }
        int longest = 0;
        for (Label l : labels) {
            longest = Math.max(longest, l.ids().length);
        }
        return model.contextLength() - longest;
    }

    private static void checkPrompt(DecoderModel model, int[] promptIds) {
        if (promptIds == null || promptIds.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        int vocab = model.vocabSize();
        for (int i = 0; i < promptIds.length; i++) {
            if (promptIds[i] < 0 || promptIds[i] >= vocab) {
                throw new IllegalArgumentException("prompt id " + promptIds[i] + " at index " + i
                        + " is outside the vocabulary [0, " + vocab + ") of " + model.id());
            }
        }
    }
}
