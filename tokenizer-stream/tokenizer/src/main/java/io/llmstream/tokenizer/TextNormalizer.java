package io.llmstream.tokenizer;

import java.nio.CharBuffer;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Unicode normalizations a tokenizer.json may ask for (NFC, NFD, NFKC, NFKD, applied in order). Text that is
 * already normalized, the usual case, costs one check and no copy. Otherwise the text is normalized in chunks cut
 * before ASCII chars, which never compose with what precedes them, so that the result equals normalizing the whole
 * while offsets map back to the original exactly in the chunks that did not change (and to chunk edges in those that
 * did); truncation offsets need that.
 */
final class TextNormalizer {
    static final TextNormalizer NONE = new TextNormalizer(List.of());

    private final List<Normalizer.Form> forms;

    TextNormalizer(List<Normalizer.Form> forms) {
        this.forms = List.copyOf(forms);
    }

    boolean isIdentity() {
        return forms.isEmpty();
    }

    List<Normalizer.Form> forms() {
        return forms;
    }

    String describe() {
        return forms.toString();
    }

    /** The normalized form of {@code s[from, to)}, or null when normalizing leaves it unchanged. */
    Normalized normalize(char[] s, int from, int to) {
        if (forms.isEmpty() || isAscii(s, from, to) || isNormalized(CharBuffer.wrap(s, from, to - from))) {
            return null;
        }
        StringBuilder text = new StringBuilder(to - from + 16);
        List<int[]> chunks = new ArrayList<>(); // {normalized start, original start, exact ? 1 : 0}
        int i = from;
        while (i < to) {
            int j = i + 1;
            while (j < to && s[j] >= 0x80) {
                j++;
            }
            if (s[i] < 0x80 && j == i + 1) {
                // an ASCII run whose last char is not followed by non-ASCII: unchanged by every form
                while (j < to && s[j] < 0x80 && (j + 1 == to || s[j + 1] < 0x80)) {
                    j++;
                }
                chunks.add(new int[] {text.length(), i, 1});
                text.append(s, i, j - i);
            } else {
                String original = new String(s, i, j - i);
                String normalized = apply(original);
                chunks.add(new int[] {text.length(), i, normalized.equals(original) ? 1 : 0});
                text.append(normalized);
            }
            i = j;
        }
        chunks.add(new int[] {text.length(), to, 1});
        char[] out = new char[text.length()];
        text.getChars(0, out.length, out, 0);
        return new Normalized(out, chunks);
    }

    String apply(String text) {
        String result = text;
        for (Normalizer.Form form : forms) {
            result = Normalizer.normalize(result, form);
        }
        return result;
    }

    private boolean isNormalized(CharSequence text) {
        for (Normalizer.Form form : forms) {
            if (!Normalizer.isNormalized(text, form)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAscii(char[] s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s[i] >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /** A normalized text and the map of its offsets back to the original. */
    static final class Normalized {
        final char[] text;
        private final int[] starts;
        private final int[] originalStarts;
        private final boolean[] exact;

        private Normalized(char[] text, List<int[]> chunks) {
            this.text = text;
            int n = chunks.size();
            starts = new int[n];
            originalStarts = new int[n];
            exact = new boolean[n];
            for (int k = 0; k < n; k++) {
                starts[k] = chunks.get(k)[0];
                originalStarts[k] = chunks.get(k)[1];
                exact[k] = chunks.get(k)[2] != 0;
            }
        }

        /** The original offset of normalized offset {@code pos}; inside a changed chunk, its start or (roundUp) end. */
        int toOriginal(int pos, boolean roundUp) {
            int k = chunk(pos);
            if (pos == starts[k]) {
                return originalStarts[k];
            }
            return exact[k] ? originalStarts[k] + pos - starts[k] : originalStarts[k + (roundUp ? 1 : 0)];
        }

        /** True when {@code [from, to)} lies in chunks that normalization left unchanged. */
        boolean isExact(int from, int to) {
            for (int k = chunk(from); k < starts.length - 1 && starts[k] < to; k++) {
                if (!exact[k]) {
                    return false;
                }
            }
            return true;
        }

        /** The chunk holding {@code pos} (the last chunk boundary at or before it). */
        private int chunk(int pos) {
            int k = Arrays.binarySearch(starts, pos);
            if (k < 0) {
                return -k - 2;
            }
            while (k + 1 < starts.length && starts[k + 1] == pos) {
                k++; // an empty chunk shares its start with the next
            }
            return k;
        }
    }
}
