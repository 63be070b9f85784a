package io.llmstream.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each hand-written scanner cuts text exactly where its regex does (java.util.regex with Unicode classes, the semantics
 * of tiktoken's and HuggingFace's engines for these patterns), including contraction case folding (U+017F matches s).
 */
class ScannerTest {
    /** The recognised spellings (tiktoken old and new, GPT-2 / HF ByteLevel, Llama-3, Qwen2, o200k). */
    static Stream<String> patterns() {
        return Stream.of(
                Splitter.R50K,
                "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                "'s|'t|'re|'ve|'m|'ll|'d| ?[\\p{L}]+| ?[\\p{N}]+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                Splitter.CL100K,
                Splitter.CL100K_PORTABLE,
                "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*"
                        + "|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                        + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                        + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
                Splitter.O200K);
    }

    @ParameterizedTest
    @MethodSource("patterns")
    void scannerMatchesTheRegex(String pattern) {
        Splitter splitter = Splitter.regex(pattern);
        assertThat(splitter).isInstanceOf(Scanner.class);
        Pattern regex = Pattern.compile(pattern, Pattern.UNICODE_CHARACTER_CLASS);
        List<String> texts = new ArrayList<>(TiktokenExactnessTest.EDGE_CASES);
        texts.addAll(List.of("'ſtuff", "x'ſ", "x'ſy", "IT'S", "\uD83D", "a\uDC00b", "\uD800\uD800x", "x\uDBFF"));
        texts.addAll(new TextGenerator(pattern.hashCode()).texts(4000, 30));
        Scratch scratch = new Scratch();
        for (String text : texts) {
            assertThat(pieces(splitter, text, scratch)).as(TiktokenExactnessTest.escape(text))
                    .isEqualTo(regexPieces(regex, text));
        }
    }

    private static List<String> pieces(Splitter splitter, String text, Scratch scratch) {
        Pieces out = new Pieces();
        splitter.matches(text.toCharArray(), 0, text.length(), out, scratch);
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            pieces.add(text.substring(out.start(i), out.end(i)));
        }
        return pieces;
    }

    private static List<String> regexPieces(Pattern regex, String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = regex.matcher(text);
        while (m.find()) {
            pieces.add(m.group());
        }
        return pieces;
    }
}
