package io.llmstream.cli.demo;

import io.llmstream.stream.ingest.DocumentFiles;
import io.llmstream.schemas.Document;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the demo feeds the pipeline: training documents, and held-out documents that become prompts. With the
 * synthetic task every held-out prompt has a known answer; with the user's files (every {@code HOLD_OUT_EVERY}-th
 * document held out) there is nothing to check, so accuracy is not measured.
 */
public final class DemoCorpus {
    static final String SOURCE = "llmstream-demo:reversal";
    /** The attribute holding an instruction document's response (the stream app's windows.response.attribute). */
    public static final String RESPONSE = "response";
    /** The attribute holding a classification document's label (the stream app's windows.label.attribute). */
    public static final String LABEL = "label";
    private static final int HOLD_OUT_EVERY = 20;

    private final List<Document> training;
    private final List<Document> heldOut;
    /** Held-out document id to its prompt text, for the synthetic task; empty for the user's files. */
    private final Map<String, String> prompts;
    /** Whether a held-out answer is a label (classification) rather than generated text. */
    private final boolean labelled;

    private DemoCorpus(List<Document> training, List<Document> heldOut, Map<String, String> prompts, boolean labelled) {
        this.training = List.copyOf(training);
        this.heldOut = List.copyOf(heldOut);
        this.prompts = Map.copyOf(prompts);
        this.labelled = labelled;
    }

    /**
     * {@code documents} training documents of the reversal task and {@code heldOut} prompts no document contains. As
     * instruction data a document is the prompt with the response in its {@value #RESPONSE} attribute; as
     * classification, letters with their label in the {@value #LABEL} attribute (and a held-out prompt is letters);
     * as text, the whole example.
     */
    public static DemoCorpus synthetic(ReversalTask task, int documents, int heldOut, DemoOptions.Form form) {
        List<Document> training = new ArrayList<>(documents);
        for (int i = 0; i < documents; i++) {
            String id = String.format("doc-%06d", i);
            if (form == DemoOptions.Form.CLASSIFY) {
                ReversalTask.Labelled example = task.nextLabelled();
                training.add(new Document(id, example.letters(), SOURCE, Map.of(LABEL, example.label()), null));
                continue;
            }
            ReversalTask.Example example = task.nextExample();
            training.add(form == DemoOptions.Form.INSTRUCT
                    ? new Document(id, example.prompt(), SOURCE, Map.of(RESPONSE, example.response()), null)
                    : document(id, example.text()));
        }
        List<Document> held = new ArrayList<>(heldOut);
        Map<String, String> prompts = new HashMap<>();
        for (String prompt : form == DemoOptions.Form.CLASSIFY ? task.heldOutLetters(heldOut) : task.heldOutPrompts(heldOut)) {
            String id = String.format("held-out-%05d", held.size());
            held.add(document(id, prompt));
            prompts.put(id, prompt);
        }
        return new DemoCorpus(training, held, prompts, form == DemoOptions.Form.CLASSIFY);
    }

    /** The user's files (as {@code llmstream ingest} reads them), every 20th document held out as a prompt. */
    public static DemoCorpus files(List<Path> inputs) throws IOException {
        DocumentFiles files = new DocumentFiles(inputs);
        List<Document> all = new ArrayList<>();
        for (Path file : files.files()) {
            files.read(file, all::add);
        }
        if (all.size() < 2) {
            throw new IllegalArgumentException("--input needs at least 2 documents (one to train on, one to hold out), found "
                    + all.size() + " in " + inputs);
        }
        List<Document> training = new ArrayList<>();
        List<Document> held = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            (i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1 || i == all.size() - 1 && held.isEmpty() ? held : training).add(all.get(i));
        }
        return new DemoCorpus(training, held, Map.of(), false);
    }

    public List<Document> training() {
        return training;
    }

    public List<Document> heldOut() {
        return heldOut;
    }

    /** Whether held-out answers can be checked (the synthetic task). */
    public boolean checkable() {
        return !prompts.isEmpty();
    }

    /** The prompt of a held-out document, when its answer can be checked. */
    public Optional<String> prompt(String documentId) {
        return Optional.ofNullable(prompts.get(documentId));
    }

    /**
     * Whether {@code answer} (the generated text, or the label of a classification) answers held-out document
     * {@code documentId}; empty when it cannot be checked.
     */
    public Optional<Boolean> isCorrect(String documentId, String answer) {
        return prompt(documentId).map(p -> labelled ? ReversalTask.label(p).equals(answer) : ReversalTask.isCorrect(p, answer));
    }

    private static Document document(String id, String text) {
        return new Document(id, text, SOURCE, Map.of(), null);
    }
}
