package io.llmstream.tokenizer;

import static io.llmstream.tokenizer.CharClass.CASELESS;
import static io.llmstream.tokenizer.CharClass.LETTER_BITS;
import static io.llmstream.tokenizer.CharClass.LOWER;
import static io.llmstream.tokenizer.CharClass.MARK;
import static io.llmstream.tokenizer.CharClass.NUMBER;
import static io.llmstream.tokenizer.CharClass.O200K_LOWER_BITS;
import static io.llmstream.tokenizer.CharClass.O200K_UPPER_BITS;
import static io.llmstream.tokenizer.CharClass.PUNCT_BITS;
import static io.llmstream.tokenizer.CharClass.SPACE;
import static io.llmstream.tokenizer.CharClass.at;
import static io.llmstream.tokenizer.CharClass.is;
import static io.llmstream.tokenizer.CharClass.width;

/**
 * Hand-written equivalents of the known pre-tokenization regexes. {@link #next} returns the end of the match that the
 * regex (leftmost alternative first, greedy, backtracking) finds at a position; these patterns match every char, so
 * the matches tile the text. The comments quote the alternative each branch implements.
 */
abstract class Scanner extends Splitter {
    static final Scanner R50K = new R50k();
    static final Scanner CL100K = new Cl100k(3, true);
    /** cl100k's older spelling, also Llama-3's: trailing whitespace after a newline is its own piece. */
    static final Scanner LLAMA3 = new Cl100k(3, false);
    static final Scanner QWEN2 = new Cl100k(1, false);
    static final Scanner O200K = new O200k();

    private Scanner() {
    }

    /** The end of the match starting at {@code i} ({@code i < end}). */
    abstract int next(char[] s, int i, int end);

    @Override
    final void matches(char[] s, int from, int to, Pieces out, Scratch scratch) {
        for (int i = from; i < to; ) {
            int e = next(s, i, to);
            out.add(i, e, false);
            i = e;
        }
    }

    /**
     * This scanner's rules for the commonest pieces of ASCII text, for the encoder's fused path; null when the encoder
     * must ask {@link #next} for every piece.
     */
    AsciiWords asciiWords() {
        return null;
    }

    /**
     * The fused path's knowledge of the cl100k family's and o200k's patterns on ASCII text: where a word of ASCII
     * letters (after an optional prefix char, {@code [^\r\n\p{L}\p{N}]}) starts, goes on and surely ends, and which
     * chars are a piece of their own. Every answer errs towards "unsure", which sends the piece to {@link #next}.
     */
    static final class AsciiWords {
        /** cl100k's {@code [^\r\n\p{L}\p{N}]?\p{L}+}, tried after contractions and before all else. */
        static final AsciiWords ANY_CASE = new AsciiWords(false);
        /** o200k's: an uppercase run then a lowercase run, an uppercase letter after lowercase ones starting anew. */
        static final AsciiWords UPPER_THEN_LOWER = new AsciiWords(true);
        /** {@link #pieceAt}'s answers. */
        static final int UNSURE = 0;
        static final int WORD = 1;
        static final int ALONE = 2;

        private final boolean cased;

        private AsciiWords(boolean cased) {
            this.cased = cased;
        }

        /**
         * What starts at the ASCII char {@code c} followed by {@code d}: a word (a letter, or a prefix char before
         * one), a piece of one char, or {@link #UNSURE}.
         */
        int pieceAt(char c, char d) {
            if (c == '\'' || c == '\r' || c >= '0' && c <= '9') { // contractions, CR runs, digits: the scanner knows
                return UNSURE;
            }
            if (isLetter(c) || c != '\n' && isLetter(d)) {
                return WORD;
            }
            return d < 0x80 && standsAlone(c, d) ? ALONE : UNSURE;
        }

        /** Whether a word goes on with {@code d}, its letters so far including a lowercase one or not. */
        boolean goesOn(char d, boolean lower) {
            return isLetter(d) && !(cased && lower && d < 'a');
        }

        /**
         * Whether a word surely ends before {@code next}: not when a non-ASCII letter or mark may go on with it, nor
         * before o200k's contractions.
         */
        boolean endsBefore(char next, boolean lower) {
            return next < 0x80 && !(cased && next == '\'') && !goesOn(next, lower);
        }

        /**
         * Whether {@code c} before {@code d} is a piece of its own, for the commonest cases: a newline before anything
         * but whitespace, a tab before anything but whitespace or a letter, a space before a digit, punctuation before
         * a space (", "). False also when unsure.
         */
        private static boolean standsAlone(char c, char d) {
            boolean space = d == ' ' || d >= '\t' && d <= '\r';
            return switch (c) {
                case '\n', '\t' -> !space;
                case ' ' -> d >= '0' && d <= '9';
                case '\u000B', '\f' -> false;
                default -> d == ' ';
            };
        }

        private static boolean isLetter(char c) {
            return (char) ((c | 0x20) - 'a') < 26;
        }
    }

    @Override
    final boolean coversAll() {
        return true;
    }

    @Override
    final boolean usesRegex() {
        return false;
    }

    /** End of the run of code points whose class is in {@code bits}, from {@code i}. */
    static int run(char[] s, int i, int end, int bits) {
        while (i < end) {
            int cls = CharClass.bmp(s[i]);
            if ((bits >>> cls & 1) != 0) {
                i++;
            } else if (cls == CharClass.SURROGATE && is(CharClass.surrogateAt(s, i, end), bits)) {
                i += width(s, i, end);
            } else {
                break;
            }
        }
        return i;
    }

    /** {@code \p{N}{1,max}} at {@code i}, which holds a number. */
    static int digits(char[] s, int i, int end, int max) {
        int count = 0;
        while (i < end && count < max && at(s, i, end) == NUMBER) {
            i += width(s, i, end);
            count++;
        }
        return i;
    }

    /**
     * The whitespace alternatives at {@code i}, which holds whitespace: {@code \s*[\r\n]+} (when {@code newlines}: up
     * to the last CR/LF of the run), then {@code \s+(?!\S)} (the run but its last char, or all of it at the end),
     * then {@code \s+} (one char). {@code wholeAtEnd} adds a leading {@code \s++$}: a run reaching the end is one piece.
     */
    static int spaces(char[] s, int i, int end, boolean newlines, boolean wholeAtEnd) {
        int r = i + 1;
        while (r < end && at(s, r, end) == SPACE) {
            r++; // all White_Space chars are in the BMP
        }
        if (r == end && wholeAtEnd) {
            return end;
        }
        if (newlines) {
            for (int k = r - 1; k >= i; k--) {
                if (s[k] == '\r' || s[k] == '\n') {
                    return k + 1;
                }
            }
        }
        if (r == end) {
            return end;
        }
        return r - i >= 2 ? r - 1 : r;
    }

    /**
     * A contraction at {@code i}, which holds an apostrophe: {@code 's 't 're 've 'm 'll 'd}, in any case when
     * {@code anyCase} (Unicode case folding: U+017F long s matches s). Returns its end, or -1.
     */
    static int contraction(char[] s, int i, int end, boolean anyCase) {
        if (i + 1 >= end) {
            return -1;
        }
        char a = anyCase ? fold(s[i + 1]) : s[i + 1];
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return i + 2;
        }
        if (i + 2 < end) {
            char b = anyCase ? fold(s[i + 2]) : s[i + 2];
            if (a == 'r' && b == 'e' || a == 'v' && b == 'e' || a == 'l' && b == 'l') {
                return i + 3;
            }
        }
        return -1;
    }

    private static char fold(char c) {
        if (c >= 'A' && c <= 'Z') {
            return (char) (c + ('a' - 'A'));
        }
        return c == '\u017F' ? 's' : c;
    }

    /** {@code [^\r\n\p{L}\p{N}]}: may prefix a letter run (cl100k, o200k). */
    static boolean canPrefix(char c, int cls) {
        return c != '\r' && c != '\n' && !is(cls, LETTER_BITS) && cls != NUMBER;
    }

    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}. */
    private static final class R50k extends Scanner {
        @Override
        int next(char[] s, int i, int end) {
            char c = s[i];
            if (c == '\'') {
                int e = contraction(s, i, end, false);
                if (e > 0) {
                    return e;
                }
            }
            int cls = at(s, i, end);
            int from = i;
            if (c == ' ' && i + 1 < end) { // the optional leading space
                int following = at(s, i + 1, end);
                if (following != SPACE) {
                    from = i + 1;
                    cls = following;
                }
            }
            if (is(cls, LETTER_BITS)) {
                return run(s, from, end, LETTER_BITS);
            }
            if (cls == NUMBER) {
                return run(s, from, end, 1 << NUMBER);
            }
            if (is(cls, PUNCT_BITS)) {
                return run(s, from, end, PUNCT_BITS);
            }
            return spaces(s, i, end, false, false);
        }
    }

    /**
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
     * and its variants: digits per number piece (Qwen2: 1), and tiktoken's current {@code \s++$}.
     */
    private static final class Cl100k extends Scanner {
        private final int maxDigits;
        private final boolean wholeAtEnd;

        Cl100k(int maxDigits, boolean wholeAtEnd) {
            this.maxDigits = maxDigits;
            this.wholeAtEnd = wholeAtEnd;
        }

        @Override
        AsciiWords asciiWords() {
            return AsciiWords.ANY_CASE;
        }

        @Override
        int next(char[] s, int i, int end) {
            char c = s[i];
            if (c == '\'') {
                int e = contraction(s, i, end, true);
                if (e > 0) {
                    return e;
                }
            }
            int cls = at(s, i, end);
            if (is(cls, LETTER_BITS)) {
                return run(s, i, end, LETTER_BITS);
            }
            if (canPrefix(c, cls)) {
                int j = i + (Character.isHighSurrogate(c) ? width(s, i, end) : 1);
                if (j < end && is(at(s, j, end), LETTER_BITS)) {
                    return run(s, j, end, LETTER_BITS);
                }
            }
            if (cls == NUMBER) {
                return digits(s, i, end, maxDigits);
            }
            int from = is(cls, PUNCT_BITS) ? i
                    : c == ' ' && i + 1 < end && is(at(s, i + 1, end), PUNCT_BITS) ? i + 1 : -1;
            if (from >= 0) {
                int k = run(s, from, end, PUNCT_BITS);
                while (k < end && (s[k] == '\r' || s[k] == '\n')) {
                    k++;
                }
                return k;
            }
            return spaces(s, i, end, true, wholeAtEnd);
        }
    }

    /**
     * o200k: {@code [^\r\n\p{L}\p{N}]?U*W+C?|[^\r\n\p{L}\p{N}]?U+W*C?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+
     * |\s+(?!\S)|\s+} with U = {@code [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]}, W = {@code [\p{Ll}\p{Lm}\p{Lo}\p{M}]} and C an
     * optional case-insensitive contraction.
     */
    private static final class O200k extends Scanner {
        @Override
        AsciiWords asciiWords() {
            return AsciiWords.UPPER_THEN_LOWER;
        }

        @Override
        int next(char[] s, int i, int end) {
            char c = s[i];
            int cls = at(s, i, end);
            boolean prefixed = canPrefix(c, cls);
            int j = !prefixed ? end : i + (Character.isHighSurrogate(c) ? width(s, i, end) : 1);
            int e;
            if (j < end && (e = upperThenLower(s, j, end)) >= 0) {
                return withContraction(s, e, end);
            }
            if (is(cls, LETTER_BITS | 1 << MARK) && (e = upperThenLower(s, i, end)) >= 0) {
                return withContraction(s, e, end);
            }
            if (j < end && (e = upperRun(s, j, end)) >= 0) {
                return withContraction(s, e, end);
            }
            if (is(cls, O200K_UPPER_BITS)) {
                return withContraction(s, upperRun(s, i, end), end);
            }
            if (cls == NUMBER) {
                return digits(s, i, end, 3);
            }
            int from = is(cls, PUNCT_BITS) ? i
                    : c == ' ' && i + 1 < end && is(at(s, i + 1, end), PUNCT_BITS) ? i + 1 : -1;
            if (from >= 0) {
                int k = run(s, from, end, PUNCT_BITS);
                while (k < end && (s[k] == '\r' || s[k] == '\n' || s[k] == '/')) {
                    k++;
                }
                return k;
            }
            return spaces(s, i, end, true, false);
        }

        /**
         * {@code U*W+} from {@code i}, or -1. U* is greedy, so W+ starts where the U run ends if a lowercase letter
         * follows; otherwise U* backtracks to the last code point of the run that is also in W (Lm, Lo, M).
         */
        private static int upperThenLower(char[] s, int i, int end) {
            int u = run(s, i, end, O200K_UPPER_BITS);
            if (u < end && at(s, u, end) == LOWER) {
                return run(s, u, end, O200K_LOWER_BITS);
            }
            for (int k = u; k > i; ) {
                k -= k - 2 >= i && Character.isLowSurrogate(s[k - 1]) && Character.isHighSurrogate(s[k - 2]) ? 2 : 1;
                int cls = at(s, k, end);
                if (cls == CASELESS || cls == MARK) {
                    return k + width(s, k, end);
                }
            }
            return -1;
        }

        /** {@code U+W*} from {@code i}, or -1. */
        private static int upperRun(char[] s, int i, int end) {
            int u = run(s, i, end, O200K_UPPER_BITS);
            return u == i ? -1 : run(s, u, end, O200K_LOWER_BITS);
        }

        /** The optional {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)} after a letter run. */
        private static int withContraction(char[] s, int e, int end) {
            if (e < end && s[e] == '\'') {
                int c = contraction(s, e, end, true);
                if (c > 0) {
                    return c;
                }
            }
            return e;
        }
    }
}
