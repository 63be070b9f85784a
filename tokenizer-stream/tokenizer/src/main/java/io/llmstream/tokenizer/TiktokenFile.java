package io.llmstream.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads tiktoken's rank files: one {@code <base64 token bytes> <rank>} per line; the rank is the token id. Decoded by
 * hand (no per-line strings), since loading o200k_base means 200k lines.
 */
final class TiktokenFile {
    private static final byte[] BASE64 = new byte[128];

    static {
        Arrays.fill(BASE64, (byte) -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < alphabet.length(); i++) {
            BASE64[alphabet.charAt(i)] = (byte) i;
        }
    }

    private TiktokenFile() {
    }

    /** Adds the file's tokens to {@code vocabulary} as mergeable tokens; {@code source} names the file in errors. */
    static void read(InputStream in, String source, Vocabulary.Builder vocabulary) throws IOException {
        byte[] data = in.readAllBytes();
        int line = 0;
        int i = 0;
        while (i < data.length) {
            line++;
            int end = i;
            while (end < data.length && data[end] != '\n') {
                end++;
            }
            int stop = end > i && data[end - 1] == '\r' ? end - 1 : end;
            if (stop > i) {
                int space = i;
                while (space < stop && data[space] != ' ') {
                    space++;
                }
                try {
                    vocabulary.add(rank(data, space + 1, stop), decode(data, i, space), true);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(source + " line " + line + ": " + e.getMessage(), e);
                }
            }
            i = end + 1;
        }
    }

    private static int rank(byte[] data, int from, int to) {
        if (from >= to || to - from > 9) {
            throw new IllegalArgumentException("expected '<base64> <rank>'");
        }
        int rank = 0;
        for (int i = from; i < to; i++) {
            int digit = data[i] - '0';
            if (digit < 0 || digit > 9) {
                throw new IllegalArgumentException("bad rank");
            }
            rank = rank * 10 + digit;
        }
        return rank;
    }

    private static byte[] decode(byte[] data, int from, int to) {
        int padding = 0;
        while (to - padding > from && data[to - padding - 1] == '=') {
            padding++;
        }
        int chars = to - from;
        if (chars % 4 != 0 || chars == 0 || padding > 2) {
            throw new IllegalArgumentException("bad base64 token");
        }
        byte[] out = new byte[chars / 4 * 3 - padding];
        int n = 0;
        int bits = 0;
        int count = 0;
        for (int i = from; i < to - padding; i++) {
            int c = data[i];
            int v = c >= 0 ? BASE64[c] : -1;
            if (v < 0) {
                throw new IllegalArgumentException("bad base64 token");
            }
            bits = bits << 6 | v;
            if (++count == 4) {
                out[n++] = (byte) (bits >> 16);
                out[n++] = (byte) (bits >> 8);
                out[n++] = (byte) bits;
                bits = 0;
                count = 0;
            }
        }
        if (count == 3) {
            out[n++] = (byte) (bits >> 10);
            out[n] = (byte) (bits >> 2);
        } else if (count == 2) {
            out[n] = (byte) (bits >> 4);
        }
        return out;
    }
}
