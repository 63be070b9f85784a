package io.llmstream.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The first step of SentencePiece-style BPE (BPE with byte_fallback), as the tokenizer.json files of Llama-2, Mistral,
 * TinyLlama and Gemma spell it: a text between added tokens has its spaces as U+2581 "▁", may get a "▁" before it
 * ({@link Prefix}), and is one piece or ({@link #splits}) is cut before each "▁"; a piece is cut into characters, a
 * character is its token or, where the vocabulary has none, the byte tokens {@code <0xNN>} of its UTF-8 bytes.
 * {@link BytePairEncoder#encodeSymbols} merges them.
 */
final class SentencePiece {
    static final char SPACE = '\u2581';

    /** When a text between added tokens gets a "▁" before it. */
    enum Prefix {
        /** Always (normalizer Prepend("▁"), Llama-2's legacy files). */
        ALWAYS,
        /** Unless it starts with a space (Metaspace prepend_scheme "always"). */
        UNLESS_SPACE,
        /** Only the text at the very start, unless it starts with a space (Metaspace "first"). */
        FIRST,
        /** Never (Gemma, Metaspace "never"). */
        NEVER
    }

    private final Prefix prefix;
    private final boolean splits;
    private final boolean stripsDecodedSpace;

    /** A char's token id, -1 for none; astral characters in {@link #astral}. */
    private final int[] bmp = new int[1 << 16];
    private final Map<Integer, Integer> astral = new HashMap<>();
    private final int[] byteIds;
    private final int space;

    /**
     * @param characters the vocabulary's tokens of one character, by code point
     * @param byteIds    the ids of {@code <0x00>} to {@code <0xFF>}
     * @param splits     whether each "▁" starts a piece of its own (Metaspace split)
     * @param stripsDecodedSpace whether decoding drops one space at the start (the decoders Strip and Metaspace)
     */
    SentencePiece(Map<Integer, Integer> characters, int[] byteIds, Prefix prefix, boolean splits,
                  boolean stripsDecodedSpace) {
        this.prefix = prefix;
        this.splits = splits;
        this.stripsDecodedSpace = stripsDecodedSpace;
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

    boolean splits() {
        return splits;
    }

    boolean stripsDecodedSpace() {
        return stripsDecodedSpace;
    }

    /** Whether the text {@code s[from, to)} (not empty) between added tokens gets a "▁" before it. */
    boolean prefixes(char[] s, int from, int to) {
        return switch (prefix) {
            case ALWAYS -> true;
            case UNLESS_SPACE -> !isSpace(s[from]);
            case FIRST -> from == 0 && !isSpace(s[from]);
            case NEVER -> false;
        };
    }

    /** Where the piece that starts at {@code from} ends: before the next space when {@link #splits}, else at {@code to}. */
    int pieceEnd(char[] s, int from, int to) {
        if (!splits) {
            return to;
        }
        int i = from + 1;
        while (i < to && !isSpace(s[i])) {
            i++;
        }
        return i;
    }

    static boolean isSpace(char c) {
        return c == ' ' || c == SPACE;
    }

    /** How this step differs from Llama-2's (for fingerprints; empty for Llama-2's). */
    String describe() {
        return prefix == Prefix.ALWAYS && !splits && stripsDecodedSpace ? ""
                : "prefix=" + prefix + ",split=" + splits + ",strip=" + stripsDecodedSpace + ";";
    }

    /**
     * Writes the initial symbols of {@code s[from, to)} (not empty, no lone surrogates), after a "▁" when
     * {@code prefixed}, to {@code scratch.symbols}; returns their count.
     */
    int symbols(char[] s, int from, int to, boolean prefixed, Scratch scratch) {
        scratch.ensureSymbols(3 * (to - from) + 2); // a char is at most 3 UTF-8 bytes, a surrogate pair 4 for 2
        int[] out = scratch.symbols;
        int n = 0;
        if (prefixed) {
            out[n++] = space;
        }
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
