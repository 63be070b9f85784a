package io.llmstream.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The public API on the built-in encodings: special tokens, decoding, counting, truncation, identity. */
class TokenizerTest {
    private static final Tokenizer CL100K = Tokenizers.load("cl100k_base");

    static Stream<String> encodings() {
        return Tokenizers.BUILT_IN.stream();
    }

    @Test
    void builtInsHaveOpenAisSizesAndSpecialTokens() {
        assertThat(Tokenizers.load("r50k_base").vocabSize()).isEqualTo(50257);
        assertThat(Tokenizers.load("p50k_base").vocabSize()).isEqualTo(50281);
        assertThat(CL100K.vocabSize()).isEqualTo(100277);
        assertThat(Tokenizers.load("o200k_base").vocabSize()).isEqualTo(200019);
        assertThat(Tokenizers.load("r50k_base").specialTokens()).isEqualTo(Map.of("<|endoftext|>", 50256));
        assertThat(Tokenizers.load("p50k_base").specialTokens()).isEqualTo(Map.of("<|endoftext|>", 50256));
        assertThat(CL100K.specialTokens()).isEqualTo(Map.of("<|endoftext|>", 100257, "<|fim_prefix|>", 100258,
                "<|fim_middle|>", 100259, "<|fim_suffix|>", 100260, "<|endofprompt|>", 100276));
        assertThat(Tokenizers.load("o200k_base").specialTokens())
                .isEqualTo(Map.of("<|endoftext|>", 199999, "<|endofprompt|>", 200018));
        assertThat(CL100K.specialTokenId("<|endoftext|>")).isEqualTo(OptionalInt.of(100257));
        assertThat(CL100K.specialTokenId("<|nope|>")).isEmpty();
        assertThat(CL100K.name()).isEqualTo("cl100k_base");
        assertThat(Tokenizers.load("cl100k_base")).isSameAs(CL100K);
    }

    @Test
    void fingerprintsAreStableAndDistinct() {
        assertThat(CL100K.fingerprint()).matches("[0-9a-f]{16}");
        List<String> prints = Tokenizers.BUILT_IN.stream().map(n -> Tokenizers.load(n).fingerprint()).toList();
        assertThat(prints).doesNotHaveDuplicates();
        assertThat(CL100K.toString()).contains("cl100k_base", CL100K.fingerprint());
    }

    @Test
    void specialTokenPoliciesFollowTiktoken() {
        String text = "<|endoftext|> hello <|fim_prefix|> there <|fim_middle|>";
        int eot = 100257;
        int fip = 100258;
        int fim = 100259;
        assertThat(CL100K.encode("hello <|endoftext|>", SpecialTokens.all())).containsExactly(15339, 220, eot);
        assertThat(CL100K.encode(text)).doesNotContain(eot, fip, fim)
                .isEqualTo(CL100K.encode(text, SpecialTokens.none()));
        assertThat(CL100K.encode(text, SpecialTokens.all())).contains(eot, fip, fim);
        assertThat(CL100K.encode(text, SpecialTokens.allow("<|fim_prefix|>").othersAsText()))
                .contains(fip).doesNotContain(eot, fim);
        assertThatThrownBy(() -> CL100K.encode(text, SpecialTokens.disallowAll()))
                .isInstanceOfSatisfying(DisallowedSpecialTokenException.class,
                        e -> assertThat(e.token()).isEqualTo("<|endoftext|>"))
                .hasMessageContaining("<|endoftext|>");
        assertThatThrownBy(() -> CL100K.encode(text, SpecialTokens.allow("<|endoftext|>", "<|fim_prefix|>")))
                .isInstanceOfSatisfying(DisallowedSpecialTokenException.class,
                        e -> assertThat(e.token()).isEqualTo("<|fim_middle|>"));
        assertThat(CL100K.encode("no specials here", SpecialTokens.disallowAll()))
                .isEqualTo(CL100K.encode("no specials here"));
        // the text around a special token is encoded as separate segments, as in tiktoken
        int[] ids = CL100K.encode("a<|endoftext|>b", SpecialTokens.all());
        assertThat(ids).containsExactly(CL100K.encode("a")[0], eot, CL100K.encode("b")[0]);
    }

    @ParameterizedTest
    @MethodSource("encodings")
    void decodeInvertsEncode(String name) {
        Tokenizer tokenizer = Tokenizers.load(name);
        for (String text : new TextGenerator(7).texts(500, 30)) {
            assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
            assertThat(tokenizer.decodeBytes(tokenizer.encode(text))).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
            assertThat(tokenizer.decode(tokenizer.encode(text + "<|endoftext|>", SpecialTokens.all())))
                    .isEqualTo(text + "<|endoftext|>");
        }
        assertThatThrownBy(() -> tokenizer.decode(new int[] {tokenizer.vocabSize()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown token id");
    }

    /** tiktoken: "lone surrogate just gets replaced" (by U+FFFD), whatever the encoding. */
    @ParameterizedTest
    @MethodSource("encodings")
    void loneSurrogatesEncodeAsReplacementCharacter(String name) {
        Tokenizer tokenizer = Tokenizers.load(name);
        assertThat(tokenizer.encode("\uD83D")).isEqualTo(tokenizer.encode("\uFFFD"));
        assertThat(tokenizer.encode("a\uDC00b c\uD800")).isEqualTo(tokenizer.encode("a\uFFFDb c\uFFFD"));
        assertThat(tokenizer.encode("x\uD800\uD800y")).isEqualTo(tokenizer.encode("x\uFFFD\uFFFDy"));
        assertThat(tokenizer.encode("\uD83D\uDC4D")).isEqualTo(tokenizer.encode("👍"));
        assertThat(tokenizer.decode(tokenizer.encode("ok\uDBFF"))).isEqualTo("ok\uFFFD");
    }

    @Test
    void countTokensStopsAtTheLimit() {
        String text = "The quick brown fox jumps over the lazy dog. ".repeat(1000);
        int total = CL100K.encode(text).length;
        assertThat(CL100K.countTokens(text)).isEqualTo(total);
        assertThat(CL100K.countTokens(text, total)).isEqualTo(total);
        assertThat(CL100K.countTokens(text, total + 5)).isEqualTo(total);
        assertThat(CL100K.countTokens(text, 10)).isEqualTo(11);
        assertThat(CL100K.countTokens(text, 0)).isEqualTo(1);
        assertThat(CL100K.countTokens("", 0)).isZero();
        assertThat(CL100K.countTokens("<|endoftext|>")).isEqualTo(CL100K.encode("<|endoftext|>").length);
        assertThatThrownBy(() -> CL100K.countTokens(text, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @MethodSource("encodings")
    void truncationKeepsAPrefixOrSuffixAndReportsTheCut(String name) {
        Tokenizer tokenizer = Tokenizers.load(name);
        for (String text : new TextGenerator(11).texts(300, 25)) {
            int[] all = tokenizer.encode(text);
            for (int max : new int[] {0, 1, 2, all.length / 2, all.length - 1, all.length, all.length + 3}) {
                if (max < 0) {
                    continue;
                }
                Truncation head = tokenizer.truncate(text, max);
                assertThat(head.ids()).isEqualTo(Arrays.copyOf(all, Math.min(max, all.length)));
                assertThat(head.truncated()).isEqualTo(max < all.length);
                assertCoversPrefix(tokenizer, text, head);

                Truncation tail = tokenizer.truncateLeft(text, max);
                assertThat(tail.ids()).isEqualTo(Arrays.copyOfRange(all, Math.max(0, all.length - max), all.length));
                assertThat(tail.truncated()).isEqualTo(max < all.length);
                assertCoversSuffix(tokenizer, text, tail);
            }
        }
    }

    @Test
    void truncationOnWordBoundariesIsExact() {
        String text = "one two three four five";
        Truncation head = CL100K.truncate(text, 2);
        assertThat(head.charOffset()).isEqualTo("one two".length());
        assertThat(text.substring(0, head.charOffset())).isEqualTo(CL100K.decode(head.ids()));
        Truncation tail = CL100K.truncateLeft(text, 2);
        assertThat(text.substring(tail.charOffset())).isEqualTo(" four five");
        Truncation none = CL100K.truncate(text, 100);
        assertThat(none.charOffset()).isEqualTo(text.length());
        assertThat(CL100K.truncateLeft(text, 100).charOffset()).isZero();
        Truncation special = CL100K.truncateLeft("a<|endoftext|>b", 2, SpecialTokens.all());
        assertThat(special.ids()).containsExactly(100257, CL100K.encode("b")[0]);
        assertThat(special.charOffset()).isEqualTo(1);
        // a token boundary inside a character: the cut character is left out of the covered text
        Truncation cut = CL100K.truncate("🀄", 1);
        assertThat(cut.truncated()).isTrue();
        assertThat(cut.charOffset()).isZero();
        assertThat(CL100K.truncateLeft("🀄", 1).charOffset()).isEqualTo(2);
    }

    /** The kept ids decode to the text's first bytes, and charOffset is the end of the whole chars among them. */
    static void assertCoversPrefix(Tokenizer tokenizer, String text, Truncation t) {
        byte[] kept = tokenizer.decodeBytes(t.ids());
        byte[] all = text.getBytes(StandardCharsets.UTF_8);
        assertThat(Arrays.copyOf(all, kept.length)).isEqualTo(kept);
        int covered = text.substring(0, t.charOffset()).getBytes(StandardCharsets.UTF_8).length;
        assertThat(covered).isLessThanOrEqualTo(kept.length);
        if (t.charOffset() < text.length()) {
            int next = text.offsetByCodePoints(t.charOffset(), 1);
            assertThat(text.substring(0, next).getBytes(StandardCharsets.UTF_8).length).isGreaterThan(kept.length);
        }
    }

    /** The kept ids decode to the text's last bytes, and charOffset is the start of the whole chars among them. */
    static void assertCoversSuffix(Tokenizer tokenizer, String text, Truncation t) {
        byte[] kept = tokenizer.decodeBytes(t.ids());
        byte[] all = text.getBytes(StandardCharsets.UTF_8);
        assertThat(Arrays.copyOfRange(all, all.length - kept.length, all.length)).isEqualTo(kept);
        int covered = text.substring(t.charOffset()).getBytes(StandardCharsets.UTF_8).length;
        assertThat(covered).isLessThanOrEqualTo(kept.length);
        if (t.charOffset() > 0) {
            int previous = text.offsetByCodePoints(t.charOffset(), -1);
            assertThat(text.substring(previous).getBytes(StandardCharsets.UTF_8).length).isGreaterThan(kept.length);
        }
    }

    /** A rank file with its own pattern: an unknown spelling runs on java.util.regex, with the same results. */
    @Test
    void rankFileWithARegexPattern(@TempDir Path dir) throws Exception {
        Path ranks = dir.resolve("ranks.tiktoken");
        try (InputStream in = Tokenizers.class.getResourceAsStream("/com/knuddels/jtokkit/cl100k_base.tiktoken")) {
            Files.copy(in, ranks);
        }
        String pattern = "(?:" + Splitter.CL100K + ")";
        Tokenizer regex = Tokenizers.tiktoken(ranks, pattern, Map.of("<|endoftext|>", 100257));
        assertThat(regex.preTokenizer().usesRegex()).isTrue();
        for (String text : new TextGenerator(21).texts(500, 30)) {
            assertThat(regex.encode(text)).as(TiktokenExactnessTest.escape(text)).isEqualTo(CL100K.encode(text));
        }
        assertThat(regex.encode("a\uD800b")).isEqualTo(CL100K.encode("a\uFFFDb"));
        assertThat(regex.encode("x<|endoftext|>", SpecialTokens.all())).endsWith(100257);
        // a file named after a built-in encoding takes that encoding's pattern and special tokens
        Path named = dir.resolve("cl100k_base.tiktoken");
        Files.copy(ranks, named);
        assertThat(Tokenizers.load(named.toString()).specialTokens()).isEqualTo(CL100K.specialTokens());
        assertThatThrownBy(() -> Tokenizers.load(ranks.toString())).hasMessageContaining("pattern");
    }

    @Test
    void concurrentEncodingGivesTheSameIds() throws Exception {
        Tokenizer o200k = Tokenizers.load("o200k_base");
        List<String> texts = new TextGenerator(31).texts(400, 40);
        List<int[]> expected = texts.stream().map(o200k::encode).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 5; round++) {
                        for (int i = 0; i < texts.size(); i++) {
                            if (!Arrays.equals(o200k.encode(texts.get(i)), expected.get(i))
                                    || CL100K.countTokens(texts.get(i)) != CL100K.encode(texts.get(i)).length) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void loadingErrorsAreClear() {
        assertThatThrownBy(() -> Tokenizers.load("no_such_encoding"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no_such_encoding")
                .hasMessageContaining("cl100k_base");
    }
}
