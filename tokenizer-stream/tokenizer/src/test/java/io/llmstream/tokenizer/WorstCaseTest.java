package io.llmstream.tokenizer;

import com.knuddels.jtokkit.api.Encoding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Inputs with no split point (one huge piece) take the heap-based merge; they must still give tiktoken's ids. The
 * timing side (near-linear, not quadratic) is measured by the benchmark, not asserted here.
 */
class WorstCaseTest {
    private static final int MEGABYTE = 1 << 20;

    static Stream<String> encodings() {
        return Tokenizers.BUILT_IN.stream();
    }

    static String randomLetters(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) ('a' + random.nextInt(26)));
        }
        return b.toString();
    }

    static String randomDigits(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) ('0' + random.nextInt(10)));
        }
        return b.toString();
    }

    @Test
    void oneMegabytePiecesMatchJtokkit() {
        for (String name : List.of("cl100k_base", "o200k_base")) {
            Tokenizer ours = Tokenizers.load(name);
            Encoding reference = TiktokenExactnessTest.reference(name);
            for (String text : List.of("a".repeat(MEGABYTE), randomLetters(MEGABYTE, 1))) {
                assertThat(ours.encode(text)).as(name).isEqualTo(TiktokenExactnessTest.ids(reference.encodeOrdinary(text)));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("encodings")
    void longRunsOfDigitsAndWhitespaceMatchJtokkit(String name) {
        Tokenizer ours = Tokenizers.load(name);
        Encoding reference = TiktokenExactnessTest.reference(name);
        int n = MEGABYTE / 4;
        for (String text : List.of(randomDigits(n, 2), " ".repeat(n), "\n".repeat(n), "\t ".repeat(n / 2),
                " \t\r\n\u00A0\u3000".repeat(n / 6) + "x", "x" + " ".repeat(n) + "y", "😀".repeat(n / 4))) {
            assertThat(ours.encode(text)).as(name).isEqualTo(TiktokenExactnessTest.ids(reference.encodeOrdinary(text)));
        }
    }

    /** Pieces just below and above the switch between the array merge and the heap merge, against the plain loop. */
    @ParameterizedTest
    @MethodSource("encodings")
    void heapMergeEqualsTheSimpleLoop(String name) {
        Tokenizer tokenizer = Tokenizers.load(name);
        Vocabulary vocabulary = tokenizer.bytePairEncoder().vocabulary();
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 30; i++) {
            int length = BytePairEncoder.SHORT_PIECE - 20 + random.nextInt(500);
            String piece = random.nextBoolean() ? randomLetters(length, i) : "ab".repeat(length / 2) + "x".repeat(i);
            assertThat(tokenizer.encode(piece)).isEqualTo(referenceMerge(vocabulary, piece.getBytes(StandardCharsets.UTF_8)));
        }
    }

    /** tiktoken's byte-pair merge, verbatim in spirit: whole piece first, then lowest rank, leftmost, rescanning. */
    static int[] referenceMerge(Vocabulary vocabulary, byte[] piece) {
        int whole = vocabulary.find(piece, 0, piece.length);
        if (whole >= 0) {
            return new int[] {whole};
        }
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i <= piece.length; i++) {
            starts.add(i);
        }
        while (true) {
            int best = Integer.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 2 < starts.size(); i++) {
                int rank = vocabulary.find(piece, starts.get(i), starts.get(i + 2) - starts.get(i));
                if (rank >= 0 && rank < best) {
                    best = rank;
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            starts.remove(at + 1);
        }
        int[] ids = new int[starts.size() - 1];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = vocabulary.find(piece, starts.get(i), starts.get(i + 1) - starts.get(i));
        }
        return ids;
    }
}
