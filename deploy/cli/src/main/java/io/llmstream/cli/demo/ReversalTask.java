package io.llmstream.cli.demo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The demo's synthetic task: reverse a short sequence of letters, written as text, one example per document:
 * {@code reverse k q a z = z a q k}. A small model learns it within the demo's minutes, every answer can be checked,
 * and held-out prompts are sequences that never occur in the training documents, so accuracy measures a learnt rule
 * rather than memory. Deterministic for a seed. Its classification flavour ({@link #nextLabelled}) labels the same
 * sequences by whether they hold a vowel.
 *
 * <p>One example per document matters: with per-document windows every example starts at position 0, where a model
 * with learnt absolute positions finds the mirror position quickly (2 layers, width 64, batch 64: every held-out
 * answer right after 800 steps for sequences of 4, after 1 000 to over 2 000 for 3 to 5 depending on the seed; width
 * 128 did 3 to 5 in 1 000). Packed at random offsets, 2 000 steps of batch 16 had learnt nothing.
 */
public final class ReversalTask {
    static final String VERB = "reverse";
    static final String EQUALS = " =";
    private final int minLetters;
    private final int maxLetters;
    private final Random random;
    private final Set<String> seen = new HashSet<>();

    public ReversalTask(long seed, int minLetters, int maxLetters) {
        if (minLetters < 2 || maxLetters < minLetters || maxLetters > 26) {
            throw new IllegalArgumentException("letters per example: need 2 <= min <= max <= 26, got " + minLetters + ".." + maxLetters);
        }
        this.random = new Random(seed);
        this.minLetters = minLetters;
        this.maxLetters = maxLetters;
    }

    /** An example as instruction data: the prompt (up to and including " =") and the response that follows it. */
    public record Example(String prompt, String response) {
        /** The example as one plain-text document. */
        public String text() {
            return prompt + response;
        }
    }

    /** The next training example; its response is a space, the reversed letters and a newline. */
    public Example nextExample() {
        String letters = nextLetters();
        seen.add(letters);
        return new Example(prompt(letters), " " + answer(letters) + "\n");
    }

    /** {@code count} prompts (up to and including " =") over sequences no training document held before. */
    public List<String> heldOutPrompts(int count) {
        return heldOutLetters(count).stream().map(ReversalTask::prompt).toList();
    }

    /**
     * The classification flavour of the task: a sequence of letters and its label, {@value #VOWEL} when it holds a
     * vowel (a, e, i, o, u), else {@value #NONE} (sequences of 4 random letters: 57% and 43%).
     */
    public record Labelled(String letters, String label) {}

    static final String VOWEL = "vowel";
    static final String NONE = "none";
    /** The labels of the classification flavour, in the order of the classification head's outputs. */
    public static final List<String> LABELS = List.of(VOWEL, NONE);

    public Labelled nextLabelled() {
        String letters = nextLetters();
        seen.add(letters);
        return new Labelled(letters, label(letters));
    }

    /** {@code count} sequences no training document held before. */
    public List<String> heldOutLetters(int count) {
        List<String> held = new ArrayList<>(count);
        while (held.size() < count) {
            String letters = nextLetters();
            if (seen.add(letters)) {
                held.add(letters);
            }
        }
        return held;
    }

    /** The label of a sequence of letters. */
    public static String label(String letters) {
        return letters.chars().anyMatch(c -> "aeiou".indexOf(c) >= 0) ? VOWEL : NONE;
    }

    /** The expected completion of a prompt, without its leading space: {@code "z a q k"}. */
    public static String expectedAnswer(String prompt) {
        if (!prompt.startsWith(VERB + " ") || !prompt.endsWith(EQUALS)) {
            throw new IllegalArgumentException("not a prompt of the reversal task: '" + prompt + "'");
        }
        return answer(prompt.substring(VERB.length() + 1, prompt.length() - EQUALS.length()));
    }

    /** Whether generated text answers the prompt: the reversed letters, then nothing but the end of the line. */
    public static boolean isCorrect(String prompt, String generated) {
        return generated.strip().equals(expectedAnswer(prompt));
    }

    private String nextLetters() {
        int n = minLetters + random.nextInt(maxLetters - minLetters + 1);
        StringBuilder letters = new StringBuilder(2 * n);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                letters.append(' ');
            }
            letters.append((char) ('a' + random.nextInt(26)));
        }
        return letters.toString();
    }

    private static String prompt(String letters) {
        return VERB + " " + letters + EQUALS;
    }

    private static String answer(String letters) {
        return new StringBuilder(letters).reverse().toString();
    }
}
