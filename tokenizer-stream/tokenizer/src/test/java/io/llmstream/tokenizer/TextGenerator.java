package io.llmstream.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random texts that mix every class the pre-tokenization patterns distinguish: cased, caseless, modifier and
 * titlecase letters, marks, numbers of all kinds, punctuation and symbols, contractions in every case, whitespace of
 * every kind (runs at ends and middles), emoji sequences, CJK, Hangul, Thai, Arabic, Devanagari and astral planes.
 */
final class TextGenerator {
    private static final String[] ATOMS = {
            // words and letters
            "hello", "World", "HTTPServer", "camelCase", "ABC", "x", "I", "über", "Straße", "naïve", "ǅemal", "ʰa", "Ǆ",
            "İstanbul", "ſtuff", "Ωmega", "привет", "Ёлка", "γειά", "ﬁne",
            // contractions, all cases
            "'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'lL", "'d", "'D",
            "'ſ", "'x", "''", "'", "don't", "I'M", "YOU'LL", "it's", "O'Neil",
            // numbers
            "0", "7", "42", "123", "1234", "99999", "3.14", "1,000", "٣٤٥", "४२", "Ⅻ", "½", "²", "𝟘𝟙", "⑦",
            // punctuation, symbols, slashes
            ".", ",", "!", "?", "...", "--", "/", "//", "/*", "*/", "#", "@", "$", "%", "&&", "<", ">", "<|", "|>", "(",
            ")", "{", "}", "[", "]", "\"", "`", "~", "^", "_", "=", "+", "-", "€", "©", "™", "\uFFFD", "\u00AD", "\u200B",
            // whitespace of every kind
            " ", " ", " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n", "\n ", " \n\n  ", "\u00A0",
            "\u3000", "\u2028", "\u0085", "\u000B", "\f", "\u2003", "\u202F", " \u00A0 ",
            // marks and scripts
            "e\u0301", "a\u0308\u0323", "\u0301", "\u0300\u0300", "中文", "漢字", "日本語", "カタカナ", "ひらがな", "한국어",
            "안녕하세요", "ภาษาไทย", "العربية", "مرحبا", "हिन्दी", "नमस्ते", "עברית",
            // astral planes and emoji sequences
            "𝔘𝔫𝔦", "𝒜", "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "🇺🇳", "❤️", "🧑🏿‍🚀", "𐍈", "𠀀", "🀄",
    };

    private final SplittableRandom random;

    TextGenerator(long seed) {
        random = new SplittableRandom(seed);
    }

    /** One text of up to {@code maxAtoms} atoms. */
    String next(int maxAtoms) {
        StringBuilder b = new StringBuilder();
        int atoms = 1 + random.nextInt(maxAtoms);
        for (int i = 0; i < atoms; i++) {
            int choice = random.nextInt(10);
            if (choice < 7) {
                b.append(ATOMS[random.nextInt(ATOMS.length)]);
            } else if (choice < 9) {
                b.append(randomCodePoints(1 + random.nextInt(4)));
            } else {
                b.append(' ');
            }
        }
        return b.toString();
    }

    List<String> texts(int count, int maxAtoms) {
        List<String> texts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            texts.add(next(maxAtoms));
        }
        return texts;
    }

    /** Random assigned code points, mostly from the BMP, never surrogates. */
    private String randomCodePoints(int n) {
        StringBuilder b = new StringBuilder();
        while (n > 0) {
            int cp = random.nextInt(4) == 0 ? random.nextInt(0x20000) : random.nextInt(0x3000);
            if (Character.isDefined(cp) && !Character.isSurrogate((char) cp) && Character.getType(cp) != Character.PRIVATE_USE) {
                b.appendCodePoint(cp);
                n--;
            }
        }
        return b.toString();
    }
}
