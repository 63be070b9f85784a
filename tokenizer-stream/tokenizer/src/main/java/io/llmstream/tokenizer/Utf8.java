package io.llmstream.tokenizer;

/** UTF-8 encoding of char ranges straight into a reusable byte buffer; lone surrogates become U+FFFD, as in tiktoken. */
final class Utf8 {
    private Utf8() {
    }

    /** Upper bound of the bytes {@link #encode} writes for {@code chars} chars plus a possible leading space. */
    static int maxBytes(int chars) {
        return 3 * chars + 1;
    }

    /** Writes the UTF-8 of {@code s[from, to)}, after a space if {@code leadingSpace}, to {@code dst[0..]}; returns the length. */
    static int encode(char[] s, int from, int to, boolean leadingSpace, byte[] dst) {
        int n = 0;
        if (leadingSpace) {
            dst[n++] = ' ';
        }
        int i = from;
        while (i < to) {
            char c = s[i++];
            if (c < 0x80) {
                dst[n++] = (byte) c;
            } else if (c < 0x800) {
                dst[n++] = (byte) (0xC0 | c >> 6);
                dst[n++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i < to && Character.isLowSurrogate(s[i])) {
                    int cp = Character.toCodePoint(c, s[i++]);
                    dst[n++] = (byte) (0xF0 | cp >> 18);
                    dst[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
                    dst[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                    dst[n++] = (byte) (0x80 | cp & 0x3F);
                } else {
                    dst[n++] = (byte) 0xEF;
                    dst[n++] = (byte) 0xBF;
                    dst[n++] = (byte) 0xBD;
                }
            } else {
                dst[n++] = (byte) (0xE0 | c >> 12);
                dst[n++] = (byte) (0x80 | c >> 6 & 0x3F);
                dst[n++] = (byte) (0x80 | c & 0x3F);
            }
        }
        return n;
    }

    /** Bytes of the code point starting at {@code s[i]} (a lone surrogate counts as U+FFFD, 3 bytes). */
    static int codePointBytes(char[] s, int i, int end) {
        char c = s[i];
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800) {
            return 2;
        }
        if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s[i + 1])) {
            return 4;
        }
        return 3;
    }

    /** True when {@code s} holds a surrogate that is not part of a pair. */
    static boolean hasLoneSurrogate(CharSequence s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code s} with every lone surrogate replaced by U+FFFD. */
    static String replaceLoneSurrogates(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else {
                b.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return b.toString();
    }
}
