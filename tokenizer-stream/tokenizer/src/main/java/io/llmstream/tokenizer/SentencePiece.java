package io.llmstream.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The first step of SentencePiece-style BPE, as the tokenizer.json files of Llama-2, Mistral and TinyLlama spell it
 * (normalizers Prepend("▁") and Replace(" ", "▁"), no pre-tokenizer, BPE with byte_fallback): a text is one piece whose
 * spaces are U+2581 "▁" and which starts with one, cut into characters; a character is its token, or, where the
 * vocabulary has none, the byte tokens {@code <0xNN>} of its UTF-8 bytes. {@link BytePairEncoder#encodeSymbols} merges
 * them.
 */
final class SentencePiece {
    static final char SPACE = '\u2581';

    /** A char's token id, -1 for none; astral characters in {@link #astral}. */
    private final int[] bmp = new int[1 << 16];
    private final Map<Integer, Integer> astral = new HashMap<>();
    private final int[] byteIds;
    private final int space;

    /**
     * @param characters the vocabulary's tokens of one character, by code point
     * @param byteIds    the ids of {@code <0x00>} to {@code <0xFF>}
     */
    SentencePiece(Map<Integer, Integer> characters, int[] byteIds) {
        Arrays.fill(bmp, -1);
        characters.forEach((cp, id) -> {
            if (cp < bmp.length) {
                bmp[cp] = id;
            } else {
                astral.put(cp, id);
            }
        });
        if (byteIds.length != 256) {
            throw new IllegalArgumentException("byte_fallback needs the 256 byte tokens <0x00>..<0xFF>");
        }
        this.byteIds = byteIds.clone();
        this.space = bmp[SPACE];
        if (space < 0) {
            throw new IllegalArgumentException("the vocab has no token for \"" + SPACE + "\" (U+2581)");
        }
    }

    /**
     * Writes the initial symbols of {@code s[from, to)} (not empty, no lone surrogates) to {@code scratch.symbols};
     * returns their count.
     */
    int symbols(char[] s, int from, int to, Scratch scratch) {
        scratch.ensureSymbols(3 * (to - from) + 2); // a char is at most 3 UTF-8 bytes, a surrogate pair 4 for 2
        int[] out = scratch.symbols;
        int n = 0;
        out[n++] = space;
        for (int i = from; i < to; i++) {
            char c = s[i];
            int id;
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s[i + 1])) {
                cp = Character.toCodePoint(c, s[++i]);
                id = astral.getOrDefault(cp, -1);
            } else {
                id = c == ' ' ? space : bmp[c];
            }
            if (id >= 0) {
                out[n++] = id;
            } else {
                n = fallBack(cp, out, n);
            }
        }
        return n;
    }

    /** The byte tokens of a code point's UTF-8 bytes. */
    private int fallBack(int cp, int[] out, int n) {
        if (cp < 0x80) {
            out[n++] = byteIds[cp];
        } else if (cp < 0x800) {
            out[n++] = byteIds[0xC0 | cp >>> 6];
            out[n++] = byteIds[0x80 | cp & 0x3F];
        } else if (cp < 0x10000) {
            out[n++] = byteIds[0xE0 | cp >>> 12];
            out[n++] = byteIds[0x80 | cp >>> 6 & 0x3F];
            out[n++] = byteIds[0x80 | cp & 0x3F];
        } else {
            out[n++] = byteIds[0xF0 | cp >>> 18];
            out[n++] = byteIds[0x80 | cp >>> 12 & 0x3F];
            out[n++] = byteIds[0x80 | cp >>> 6 & 0x3F];
            out[n++] = byteIds[0x80 | cp & 0x3F];
        }
        return n;
    }
}
