package io.llmstream.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Our encoders against jtokkit (the reference for tiktoken's encodings on valid text). */
class TiktokenExactnessTest {
    private static final EncodingRegistry JTOKKIT = Encodings.newDefaultEncodingRegistry();

    static final List<String> EDGE_CASES = List.of(
            "", " ", "  ", "\n", "a\n  ", "today\n ", "today\n \n", "today\n  \n", "hello world", "Hello, World!",
            "'s", "'S", "x'S", "x'Sy", "I'M", "don't", "DON'T", "we'Ll", "they'RE", "'", "''", "'''s", "   leading",
            "trailing   ", "trailing \t", "\t\tx", "a\u00A0b", "\u3000x", "x\u3000", "x \u3000 y", "1234567", "a1b2c3",
            "12 345 6789", "<|endoftext|>", "!!!\n\n\n", "////", "a/b/c\n/", "x!\n/y", "👨‍👩‍👧‍👦", "ǅemal ǄEMAL",
            "e\u0301\u0301x", "\u0301abc", " \u0301", "\r\n\r\n  x", "  \n  ", " \n \n ", "HTTPServerError",
            "ABCdef", "abcDEF", "ĀĀĀāāā", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟘𝟙𝟚𝟛", "日本語のテキスト", "한국어 텍스트", "ภาษาไทย", "नमस्ते दुनिया",
            "مرحبا بالعالم", "\uFFFD", "a\uFFFDb", "  \u00A0\u00A0x", "\n\u00A0", "x\n\u00A0", "\u0085\u0085x",
            "Ⅻ½²", "$100.00", "foo_bar_baz", "#include <stdio.h>", "def f(x):\n    return x\n", "\t\n\t\n",
            "\n1x", "\n.x", "a\nb", "\t(x", "\t7", "a 7", "a\t\t7", "\u000B x", "\f. x", "\u0007 x", ";\n x", "x\n\u00A0y",
            "x \n y", "a. b, c: d; e! f? g", "(a) [b] {c}", "x\t y", "x\n\n y");

    static Stream<String> encodings() {
        return Tokenizers.BUILT_IN.stream();
    }

    static Encoding reference(String name) {
        return JTOKKIT.getEncoding(EncodingType.fromName(name).orElseThrow());
    }

    static int[] ids(IntArrayList list) {
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = list.get(i);
        }
        return ids;
    }

    /** Texts where we differ from the reference, each with both encodings (empty when none). */
    static List<String> mismatches(Tokenizer ours, Encoding reference, List<String> texts) {
        List<String> failures = new ArrayList<>();
        for (String text : texts) {
            int[] expected = ids(reference.encodeOrdinary(text));
            int[] actual = ours.encode(text);
            if (!Arrays.equals(expected, actual) && failures.size() < 5) {
                failures.add(escape(text) + "\n  expected " + Arrays.toString(expected) + "\n  actual   "
                        + Arrays.toString(actual));
            }
        }
        return failures;
    }

    static String escape(String text) {
        StringBuilder b = new StringBuilder("\"");
        text.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp > 0x7E) {
                b.append(String.format("\\u{%X}", cp));
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.append('"').toString();
    }

    @ParameterizedTest
    @MethodSource("encodings")
    void handPickedEdgeCasesMatchJtokkit(String name) {
        assertThat(mismatches(Tokenizers.load(name), reference(name), EDGE_CASES)).isEmpty();
    }

    /**
     * Words of every length around the 8 and 16 bytes where ASCII words leave the fused scan-and-cache path, and in
     * every mix of case (o200k cuts before an uppercase letter that follows lowercase ones), after every kind of
     * prefix and before every kind of follower (a non-ASCII letter continues the word).
     */
    @ParameterizedTest
    @MethodSource("encodings")
    void asciiWordsOfEveryLengthMatchJtokkit(String name) {
        String letters = "SupercalifragilisticExpialidociousAndMore";
        List<String> prefixes = List.of("", " ", "\t", "!", "'", "\"", "7", "\n", "\u00A0", "é", "  ", ", ", "\u0007 ", "\t ", "' ");
        List<String> followers = List.of("", " ", ".", "é", "ß", "\u2014", "9", "'s", "\r\n", "\u0301", "x\uD835\uDD18");
        List<String> words = new ArrayList<>(List.of("helloWorld", "HTTPServer", "ABc", "aBC", "XMLHttpRequest", "aB",
                "Ab", "AB", "lowerUPPERlower", "ALLCAPSUNTILNOWx"));
        for (int length : new int[] {1, 2, 7, 8, 9, 14, 15, 16, 17, 18, 31}) {
            words.add(letters.substring(0, length));
        }
        List<String> texts = new ArrayList<>();
        for (String word : words) {
            for (String prefix : prefixes) {
                for (String follower : followers) {
                    texts.add(prefix + word + follower);
                    texts.add("a" + prefix + word.toLowerCase() + follower + " the end");
                }
            }
        }
        assertThat(mismatches(Tokenizers.load(name), reference(name), texts)).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("encodings")
    void generatedTextsMatchJtokkit(String name) {
        List<String> texts = new TextGenerator(name.hashCode()).texts(3000, 40);
        assertThat(mismatches(Tokenizers.load(name), reference(name), texts)).isEmpty();
    }

    @Test
    void knownIdsFromTiktokensTests() {
        assertThat(Tokenizers.load("r50k_base").encode("hello world")).containsExactly(31373, 995);
        assertThat(Tokenizers.load("p50k_base").encode("hello world")).containsExactly(31373, 995);
        Tokenizer cl100k = Tokenizers.load("cl100k_base");
        assertThat(cl100k.encode("hello world")).containsExactly(15339, 1917);
        assertThat(cl100k.encode("today\n ")).containsExactly(31213, 198, 220);
        assertThat(cl100k.encode("today\n \n")).containsExactly(31213, 27907);
        assertThat(cl100k.encode("today\n  \n")).containsExactly(31213, 14211);
        assertThat(cl100k.encode(" \u00850")).containsExactly(220, 126, 227, 15);
        assertThat(cl100k.encode("👍")).containsExactly(9468, 239, 235);
        assertThat(Tokenizers.load("r50k_base").encode("00000000000000000")).containsExactly(8269, 10535, 830);
    }

    /** The corpora of ../shared/corpus/make-corpus.sh, when some run made them (-Dllmstream.corpus=DIR or /tmp/corpus). */
    @ParameterizedTest
    @MethodSource("encodings")
    void corpusDocumentsMatchJtokkit(String name) throws IOException {
        Path dir = Path.of(System.getProperty("llmstream.corpus", "/tmp/corpus"));
        assumeTrue(Files.isRegularFile(dir.resolve("english.txt")), "no corpus in " + dir + " (make-corpus.sh)");
        Tokenizer ours = Tokenizers.load(name);
        Encoding reference = reference(name);
        for (String file : List.of("english.txt", "code.txt", "multilingual.txt")) {
            List<String> documents = documents(dir.resolve(file), 1 << 20);
            assertThat(mismatches(ours, reference, documents)).as(file).isEmpty();
        }
    }

    /** The first {@code bytes} of a corpus file, cut into documents at blank lines. */
    static List<String> documents(Path file, int bytes) throws IOException {
        byte[] data;
        try (var in = Files.newInputStream(file)) {
            data = in.readNBytes(bytes);
        }
        String text = new String(data, StandardCharsets.UTF_8);
        return Arrays.asList(text.substring(0, Math.max(0, text.lastIndexOf("\n\n"))).split("\n\n"));
    }
}
