package io.llmstream.tokenizer;

/**
 * GPT-2's byte-to-unicode map, which tokenizer.json files use to spell byte-level tokens as text: printable Latin-1
 * bytes stand for themselves, the other 68 bytes for U+0100 onwards in byte order (so a space is 'Ġ').
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE;
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) next++;
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {
    }

    static String encode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /**
     * Writes the bytes a byte-level string stands for to {@code out[at..]}; returns the position after them, or -1
     * when the string has a char outside the map or {@code out} has no room.
     */
    static int decodeInto(String text, byte[] out, int at) {
        if (at + text.length() > out.length) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
                return -1;
            }
            out[at + i] = (byte) CHAR_TO_BYTE[c];
        }
        return at + text.length();
    }

    /** The bytes a byte-level string stands for, or null when it has a char outside the map. */
    static byte[] decode(String text) {
        byte[] bytes = new byte[text.length()];
        for (int i = 0; i < bytes.length; i++) {
            char c = text.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
                return null;
            }
            bytes[i] = (byte) CHAR_TO_BYTE[c];
        }
        return bytes;
    }
}
