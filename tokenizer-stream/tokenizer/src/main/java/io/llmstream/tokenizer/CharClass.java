package io.llmstream.tokenizer;

/**
 * The Unicode classes that the pre-tokenization patterns distinguish, one small code per code point, with a table for
 * the BMP so that scanners classify a char with one array load. Classes follow {@link Character#getType} (the JVM's
 * Unicode version), the same tables java.util.regex uses for {@code \p{L}}, {@code \p{N}}, {@code \p{M}}; {@code \s}
 * is the White_Space property, as in Rust's regex crate (tiktoken) and Oniguruma (HuggingFace).
 */
final class CharClass {
    /** Lu, Lt: uppercase-like letters ({@code [\p{Lu}\p{Lt}]}). */
    static final int UPPER = 0;
    /** Ll. */
    static final int LOWER = 1;
    /** Lm, Lo: letters without case, in both of o200k's letter classes. */
    static final int CASELESS = 2;
    /** Mn, Mc, Me. */
    static final int MARK = 3;
    /** Nd, Nl, No. */
    static final int NUMBER = 4;
    /** White_Space, which includes CR and LF. */
    static final int SPACE = 5;
    /** Everything else, including lone surrogates (tiktoken sees them as U+FFFD, also "other"). */
    static final int OTHER = 6;
    /** In the BMP table only: a surrogate char, whose class depends on its neighbour (see {@link #at}). */
    static final int SURROGATE = 7;

    static final int LETTER_BITS = 1 << UPPER | 1 << LOWER | 1 << CASELESS;
    /** {@code [^\s\p{L}\p{N}]}. */
    static final int PUNCT_BITS = 1 << MARK | 1 << OTHER;
    /** o200k's {@code [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]}. */
    static final int O200K_UPPER_BITS = 1 << UPPER | 1 << CASELESS | 1 << MARK;
    /** o200k's {@code [\p{Ll}\p{Lm}\p{Lo}\p{M}]}. */
    static final int O200K_LOWER_BITS = 1 << LOWER | 1 << CASELESS | 1 << MARK;

    private static final byte[] BMP = new byte[0x10000];

    static {
        for (int c = 0; c < BMP.length; c++) {
            BMP[c] = (byte) (Character.isSurrogate((char) c) ? SURROGATE : compute(c));
        }
    }

    private CharClass() {
    }

    /** The class of the code point at {@code s[i]} (a lone surrogate is classed on its own, as OTHER). */
    static int at(char[] s, int i, int end) {
        int cls = BMP[s[i]];
        return cls == SURROGATE ? surrogateAt(s, i, end) : cls;
    }

    /** The class of a char in the BMP table, {@link #SURROGATE} for either half of a pair or a lone surrogate. */
    static int bmp(char c) {
        return BMP[c];
    }

    /** The class of the code point whose first char {@code s[i]} is a surrogate. */
    static int surrogateAt(char[] s, int i, int end) {
        char c = s[i];
        if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s[i + 1])) {
            return compute(Character.toCodePoint(c, s[i + 1]));
        }
        return OTHER;
    }

    /** Length in chars of the code point at {@code s[i]}: 2 for a surrogate pair, else 1. */
    static int width(char[] s, int i, int end) {
        return Character.isHighSurrogate(s[i]) && i + 1 < end && Character.isLowSurrogate(s[i + 1]) ? 2 : 1;
    }

    static boolean is(int cls, int bits) {
        return (bits >>> cls & 1) != 0;
    }

    static int of(int codePoint) {
        return codePoint < BMP.length && !Character.isSurrogate((char) codePoint) ? BMP[codePoint] : compute(codePoint);
    }

    static boolean isWhiteSpace(int codePoint) {
        return of(codePoint) == SPACE;
    }

    /** Rust's / Java's Unicode {@code \w}: alphabetic, marks, decimal digits, connector punctuation, joiners. */
    static boolean isWordChar(int codePoint) {
        if (Character.isAlphabetic(codePoint) || codePoint == 0x200C || codePoint == 0x200D) {
            return true;
        }
        int type = Character.getType(codePoint);
        return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK
                || type == Character.COMBINING_SPACING_MARK || type == Character.DECIMAL_DIGIT_NUMBER
                || type == Character.CONNECTOR_PUNCTUATION;
    }

    private static int compute(int cp) {
        if (cp >= 0x09 && cp <= 0x0D || cp == 0x85) {
            return SPACE;
        }
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER:
            case Character.TITLECASE_LETTER:
                return UPPER;
            case Character.LOWERCASE_LETTER:
                return LOWER;
            case Character.MODIFIER_LETTER:
            case Character.OTHER_LETTER:
                return CASELESS;
            case Character.NON_SPACING_MARK:
            case Character.COMBINING_SPACING_MARK:
            case Character.ENCLOSING_MARK:
                return MARK;
            case Character.DECIMAL_DIGIT_NUMBER:
            case Character.LETTER_NUMBER:
            case Character.OTHER_NUMBER:
                return NUMBER;
            case Character.SPACE_SEPARATOR:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
                return SPACE;
            default:
                return OTHER;
        }
    }
}
