package io.llmstream.stream;

/** UTF-8 length of a Java string without encoding it; a lone surrogate counts as U+FFFD (3 bytes), as it is encoded. */
final class Utf8Length {
    private Utf8Length() {}

    /** The UTF-8 byte length of {@code s}, or any value above {@code limit} as soon as it passes the limit. */
    static int of(String s, int limit) {
        long bytes = 0;
        int n = s.length();
        for (int i = 0; i < n && bytes <= limit; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return (int) Math.min(bytes, Integer.MAX_VALUE);
    }
}
