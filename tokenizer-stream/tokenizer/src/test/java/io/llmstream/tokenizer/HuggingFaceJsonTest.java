package io.llmstream.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The tokenizer.json loader against HuggingFace tokenizers itself (through DJL): a small vocabulary trained here is
 * written in many configurations (pre-tokenizers, normalizers, added tokens, merge formats) and both must give the
 * same ids; plus GPT-4o's real file against o200k_base, and refusal of what is not supported.
 */
class HuggingFaceJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path GPT4O = Path.of(System.getProperty("llmstream.shared", "../../../shared"))
            .resolve("tokenizers/gpt4o.tokenizer.json");

    @TempDir
    static Path dir;
    private static ObjectNode base;
    private static List<String> texts;

    @BeforeAll
    static void trainASmallVocabulary() throws IOException {
        List<String> corpus = new ArrayList<>(new TextGenerator(42).texts(3000, 40));
        for (int i = 0; i < 300; i++) {
            corpus.add("The quick brown fox jumps over the lazy dog " + i + " times; it's what foxes don't do.\n");
        }
        base = (ObjectNode) JSON.readTree(BpeTrainer.builder().vocabSize(1500).build().train(corpus).toJson());
        texts = new ArrayList<>(new TextGenerator(43).texts(600, 30));
        texts.addAll(List.of("", " ", "  leading and trailing  ", "a\n\n b", "<|endoftext|>", "x<|endoftext|>y",
                "<tool>call</tool> [MASK]  [MASK] word words sword word.", "ﬁne café cafe\u0301 Å Å Å ①",
                "1234567 8 90", "e\u0301\u0301", "foxes<|endoftext|>don't"));
    }

    /** Writes a variant of the trained file and checks ours against HuggingFace's on every text. */
    private static Tokenizer assertSameAsHuggingFace(String name, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode root = base.deepCopy();
        edit.accept(root);
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, JSON.writeValueAsString(root));
        Tokenizer ours = Tokenizers.load(file.toString());
        try (HuggingFaceTokenizer reference = HuggingFaceTokenizer.newInstance(file,
                Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"))) {
            List<String> failures = new ArrayList<>();
            for (String text : texts) {
                int[] expected = Arrays.stream(reference.encode(text, false, false).getIds()).mapToInt(x -> (int) x).toArray();
                int[] actual = ours.encode(text, SpecialTokens.all());
                if (!Arrays.equals(expected, actual) && failures.size() < 3) {
                    failures.add(TiktokenExactnessTest.escape(text) + "\n  HF   " + Arrays.toString(expected)
                            + "\n  ours " + Arrays.toString(actual));
                }
            }
            assertThat(failures).as(name).isEmpty();
        }
        return ours;
    }

    private static ObjectNode split(String pattern, boolean literal, String behavior, boolean invert) {
        ObjectNode split = JSON.createObjectNode().put("type", "Split");
        split.putObject("pattern").put(literal ? "String" : "Regex", pattern);
        return split.put("behavior", behavior).put("invert", invert);
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean useRegex) {
        return JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", addPrefixSpace)
                .put("trim_offsets", true).put("use_regex", useRegex);
    }

    private static void preTokenizers(ObjectNode root, ObjectNode... chain) {
        ObjectNode sequence = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode list = sequence.putArray("pretokenizers");
        Arrays.stream(chain).forEach(list::add);
    }

    private static ObjectNode addedToken(ObjectNode root, int id, String content, boolean special, boolean lstrip,
                                         boolean rstrip, boolean singleWord, boolean normalized) {
        return ((ArrayNode) root.get("added_tokens")).addObject().put("id", id).put("content", content)
                .put("single_word", singleWord).put("lstrip", lstrip).put("rstrip", rstrip)
                .put("normalized", normalized).put("special", special);
    }

    @Test
    void trainedFileAsWritten() throws Exception {
        Tokenizer ours = assertSameAsHuggingFace("trained", root -> { });
        assertThat(ours.specialTokens()).containsOnlyKeys("<|endoftext|>");
        assertThat(ours.encode("<|endoftext|>")).hasSizeGreaterThan(1); // plain text by default
    }

    @Test
    void ignoreMergesLooksWholePiecesUpFirst() throws Exception {
        assertSameAsHuggingFace("ignore-merges", root -> ((ObjectNode) root.get("model")).put("ignore_merges", true));
    }

    @Test
    void mergesWrittenAsPairs() throws Exception {
        Tokenizer strings = Tokenizers.load(write("strings", base).toString());
        Tokenizer pairs = assertSameAsHuggingFace("pairs", root -> {
            ArrayNode merges = (ArrayNode) root.get("model").get("merges");
            ArrayNode rewritten = JSON.createArrayNode();
            merges.forEach(m -> rewritten.addArray().add(m.asText().split(" ")[0]).add(m.asText().split(" ")[1]));
            ((ObjectNode) root.get("model")).set("merges", rewritten);
        });
        assertThat(pairs.fingerprint()).isEqualTo(strings.fingerprint());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "[A-Za-z]+|[0-9]+|\\s+|[^A-Za-z0-9\\s]+"})
    void knownAndUnknownSplitPatterns(String pattern) throws Exception {
        assertSameAsHuggingFace("pattern-" + Integer.toHexString(pattern.hashCode()),
                root -> preTokenizers(root, split(pattern, false, "Isolated", false), byteLevel(false, false)));
    }

    @ParameterizedTest
    @CsvSource({"Removed,false", "Removed,true", "Isolated,false", "Isolated,true", "MergedWithPrevious,false",
            "MergedWithPrevious,true", "MergedWithNext,false", "MergedWithNext,true", "Contiguous,false",
            "Contiguous,true"})
    void splitBehaviours(String behavior, boolean invert) throws Exception {
        assertSameAsHuggingFace("split-" + behavior + invert, root -> preTokenizers(root,
                split("\\s+|\\p{N}", false, behavior, invert), byteLevel(false, false)));
        assertSameAsHuggingFace("split-string-" + behavior + invert, root -> preTokenizers(root,
                split(" ", true, behavior, invert), byteLevel(false, false)));
    }

    /** DeepSeek-V3 chains three Splits (digits, CJK runs, then a cl100k-like pattern) before ByteLevel. */
    @Test
    void deepSeekStyleChainOfSplits() throws Exception {
        assertSameAsHuggingFace("deepseek", root -> preTokenizers(root,
                split("\\p{N}{1,3}", false, "Isolated", false),
                split("[一-龥\u3040-ゟ゠-ヿ]+", false, "Isolated", false),
                split("[\\r\\n]|\\s[^\\S\\r\\n]*[\\r\\n]+|[^\\s\\p{L}\\p{N}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*"
                        + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", false, "Isolated", false),
                byteLevel(false, false)));
    }

    @ParameterizedTest
    @CsvSource({"false,true", "true,true", "true,false"})
    void byteLevelOnItsOwn(boolean addPrefixSpace, boolean useRegex) throws Exception {
        assertSameAsHuggingFace("bytelevel-" + addPrefixSpace + useRegex,
                root -> root.set("pre_tokenizer", byteLevel(addPrefixSpace, useRegex)));
    }

    /**
     * Normalization data follows each side's Unicode version (Java 17: 13.0; HuggingFace's Rust crate: its own), so
     * these texts keep to the BMP and to long-standing emoji and math letters.
     */
    @ParameterizedTest
    @ValueSource(strings = {"NFC", "NFD", "NFKC", "NFKD"})
    void normalizers(String form) throws Exception {
        List<String> all = texts;
        texts = all.stream().filter(HuggingFaceJsonTest::hasStableNormalization).toList();
        try {
            assertSameAsHuggingFace("normalizer-" + form, root -> root.putObject("normalizer").put("type", form));
        } finally {
            texts = all;
        }
    }

    private static boolean hasStableNormalization(String text) {
        return text.codePoints().allMatch(cp -> cp < 0x10000 || cp >= 0x1D400 && cp < 0x1D800 || cp >= 0x1F000 && cp < 0x1FB00);
    }

    @Test
    void sequenceOfNormalizers() throws Exception {
        List<String> all = texts;
        texts = all.stream().filter(HuggingFaceJsonTest::hasStableNormalization).toList();
        try {
                assertSameAsHuggingFace("normalizer-sequence", root -> {
                ArrayNode list = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
                list.addObject().put("type", "NFD");
                list.addObject().put("type", "NFKC");
            });
            assertSameAsHuggingFace("normalizer-empty-sequence",
                    root -> root.putObject("normalizer").put("type", "Sequence").putArray("normalizers"));
        } finally {
            texts = all;
        }
    }

    /** Added tokens special or not, with lstrip, rstrip, single_word and normalized, matched before normalization. */
    @Test
    void addedTokensWithTheirFlags() throws Exception {
        Tokenizer ours = assertSameAsHuggingFace("added", root -> {
            root.putObject("normalizer").put("type", "NFKC");
            addedToken(root, 1500, "<tool>", false, false, false, false, false);
            addedToken(root, 1501, "</tool>", false, false, false, false, false);
            addedToken(root, 1502, "[MASK]", true, true, true, false, false);
            addedToken(root, 1503, "word", false, false, false, true, false);
            addedToken(root, 1504, "ﬁ", false, false, false, false, true);
            addedToken(root, 1505, "café", false, false, false, false, true);
            addedToken(root, 1506, "<|end", true, false, false, false, false);
        });
        assertThat(ours.specialTokens()).containsOnlyKeys("<|endoftext|>", "[MASK]", "<|end");
        // non-special added tokens always match; special ones follow the policy
        assertThat(ours.encode("<tool>")).containsExactly(1500);
        assertThat(ours.encode("[MASK]")).hasSizeGreaterThan(1);
        assertThatThrownBy(() -> ours.encode("a [MASK]", SpecialTokens.disallowAll()))
                .isInstanceOf(DisallowedSpecialTokenException.class);
    }

    /** With a normalizer, offsets stay exact where normalization changed nothing, and are chunk edges elsewhere. */
    @Test
    void truncationOffsetsThroughNormalization() throws Exception {
        Tokenizer nfc = assertSameAsHuggingFace("truncate-nfc", root -> root.putObject("normalizer").put("type", "NFC"));
        String text = "hello world cafe\u0301 au lait and more words";
        int[] all = nfc.encode(text);
        int[] head = nfc.encode("hello world");
        Truncation cut = nfc.truncate(text, head.length);
        assertThat(cut.ids()).isEqualTo(head);
        assertThat(cut.charOffset()).isEqualTo("hello world".length());
        Truncation tail = nfc.truncateLeft(text, 3);
        assertThat(tail.ids()).isEqualTo(Arrays.copyOfRange(all, all.length - 3, all.length));
        assertThat(text.substring(tail.charOffset())).isEqualTo(nfc.decode(tail.ids()));
        for (int max = 0; max <= all.length; max++) {
            Truncation t = nfc.truncate(text, max);
            assertThat(t.ids()).isEqualTo(Arrays.copyOf(all, max));
            assertThat(t.charOffset()).isBetween(0, text.length());
            Truncation l = nfc.truncateLeft(text, max);
            assertThat(l.ids()).isEqualTo(Arrays.copyOfRange(all, all.length - max, all.length));
            assertThat(l.charOffset()).isBetween(0, text.length());
        }
    }

    @Test
    void gpt4oFileEqualsO200kBase() {
        assumeTrue(Files.isRegularFile(GPT4O), "no " + GPT4O);
        Tokenizer hf = Tokenizers.load(GPT4O.toString());
        Tokenizer o200k = Tokenizers.load("o200k_base");
        assertThat(hf.vocabSize()).isEqualTo(o200k.vocabSize());
        assertThat(hf.specialTokens()).isEqualTo(o200k.specialTokens());
        List<String> all = new ArrayList<>(TiktokenExactnessTest.EDGE_CASES);
        all.addAll(new TextGenerator(200).texts(3000, 40));
        // long pieces take the grouped merge, here with merge-rule ranks rather than token ids
        all.addAll(List.of(WorstCaseTest.randomLetters(100_000, 4), "a".repeat(50_000), " ".repeat(50_000),
                "\n".repeat(30_000), WorstCaseTest.randomDigits(30_000, 5)));
        for (String text : all) {
            assertThat(hf.encode(text)).as(TiktokenExactnessTest.escape(text.substring(0, Math.min(text.length(), 200))))
                    .isEqualTo(o200k.encode(text));
            assertThat(hf.encode(text + "<|endoftext|>", SpecialTokens.all()))
                    .isEqualTo(o200k.encode(text + "<|endoftext|>", SpecialTokens.all()));
        }
    }

    /** Built-in encodings exported for model artifacts: the same ids from the file, here and in HuggingFace. */
    @ParameterizedTest
    @ValueSource(strings = {"r50k_base", "p50k_base", "cl100k_base", "o200k_base"})
    void builtInEncodingsExportAsEquivalentTokenizerJson(String name) throws Exception {
        Tokenizer builtIn = Tokenizers.load(name);
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, builtIn.toTokenizerJson());
        Tokenizer exported = Tokenizers.load(file.toString());
        assertThat(exported.specialTokens()).isEqualTo(builtIn.specialTokens());
        assertThat(exported.vocabSize()).isEqualTo(builtIn.vocabSize());
        List<String> all = new ArrayList<>(TiktokenExactnessTest.EDGE_CASES);
        all.addAll(new TextGenerator(name.length()).texts(1500, 40));
        for (String text : all) {
            assertThat(exported.encode(text, SpecialTokens.all())).as(TiktokenExactnessTest.escape(text))
                    .isEqualTo(builtIn.encode(text, SpecialTokens.all()));
        }
        if (name.equals("cl100k_base")) {
            try (HuggingFaceTokenizer reference = HuggingFaceTokenizer.newInstance(file,
                    Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"))) {
                for (String text : all.subList(0, 600)) {
                    assertThat(reference.encode(text, false, false).getIds()).as(TiktokenExactnessTest.escape(text))
                            .isEqualTo(Arrays.stream(builtIn.encode(text, SpecialTokens.all())).asLongStream().toArray());
                }
            }
        }
    }

    @Test
    void directoryWithATokenizerJsonLoads() throws Exception {
        Path model = Files.createDirectories(dir.resolve("model-dir"));
        Files.writeString(model.resolve("tokenizer.json"), JSON.writeValueAsString(base));
        assertThat(Tokenizers.load(model.toString()).encode("hello")).isEqualTo(Tokenizers.load(write("plain", base).toString()).encode("hello"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "model|{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}|WordPiece",
            "model|{\"type\":\"Unigram\",\"vocab\":[]}|Unigram",
            "normalizer|{\"type\":\"Lowercase\"}|Lowercase",
            "normalizer|{\"type\":\"BertNormalizer\"}|BertNormalizer",
            "normalizer|{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Replace\"}]}|Replace",
            "pre_tokenizer|{\"type\":\"Metaspace\",\"replacement\":\"▁\"}|Metaspace",
            "pre_tokenizer|{\"type\":\"Whitespace\"}|Whitespace",
            "pre_tokenizer|null|pre_tokenizer",
            "decoder|{\"type\":\"WordPiece\"}|WordPiece",
            "decoder|null|decoder"})
    void unsupportedComponentsAreRefusedByName(String field, String json, String named) throws Exception {
        ObjectNode root = base.deepCopy();
        JsonNode value = JSON.readTree(json);
        root.set(field, value);
        Path file = write("refused-" + named + field, root);
        assertThatThrownBy(() -> Tokenizers.load(file.toString()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(named)
                .hasMessageContaining(file.toString());
    }

    @Test
    void byteFallbackIsRefused() throws Exception {
        ObjectNode root = base.deepCopy();
        ((ObjectNode) root.get("model")).put("byte_fallback", true);
        Path file = write("byte-fallback", root);
        assertThatThrownBy(() -> Tokenizers.load(file.toString())).hasMessageContaining("byte_fallback");
    }

    private static Path write(String name, JsonNode root) throws IOException {
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, JSON.writeValueAsString(root));
        return file;
    }
}
