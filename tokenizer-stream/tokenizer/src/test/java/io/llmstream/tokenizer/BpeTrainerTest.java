package io.llmstream.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpeTrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static List<String> corpus() {
        List<String> texts = new ArrayList<>(new TextGenerator(5).texts(1500, 30));
        for (int i = 0; i < 200; i++) {
            texts.add("Kafka streams tokenize documents; the trainer reads windows " + i + ".<|endoftext|>Next doc");
        }
        return texts;
    }

    @Test
    void sameInputSameVocabulary() {
        String first = BpeTrainer.builder().vocabSize(800).build().train(corpus()).toJson();
        String second = BpeTrainer.builder().vocabSize(800).build().train(corpus()).toJson();
        assertThat(first).isEqualTo(second);
    }

    @Test
    void layoutIsBytesThenMergesThenSpecialTokens() throws Exception {
        BpeTrainer.Result result = BpeTrainer.builder().vocabSize(700).pattern(BpeTrainer.CL100K_PATTERN)
                .specialTokens(List.of("<|endoftext|>", "<|pad|>")).build().train(corpus());
        assertThat(result.mergeableTokens()).isEqualTo(698);
        assertThat(result.merges()).isGreaterThanOrEqualTo(698 - 256);
        Tokenizer tokenizer = result.tokenizer();
        assertThat(tokenizer.vocabSize()).isEqualTo(700);
        assertThat(tokenizer.specialTokens()).isEqualTo(Map.of("<|endoftext|>", 698, "<|pad|>", 699));
        assertThat(tokenizer.encode("a")).containsExactly((int) 'a');
        JsonNode root = JSON.readTree(result.toJson());
        assertThat(root.at("/pre_tokenizer/pretokenizers/0/pattern/Regex").asText()).isEqualTo(BpeTrainer.CL100K_PATTERN);
        assertThat(root.at("/model/vocab/Ġ").asInt()).isEqualTo(32);
        for (String text : corpus().subList(0, 300)) {
            assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
        }
        // the special tokens were kept out of training: no merge spells them
        assertThat(tokenizer.encode("<|endoftext|>")).hasSizeGreaterThan(1);
        assertThat(tokenizer.encode("x<|endoftext|>", SpecialTokens.all())).endsWith(698);
    }

    @Test
    void mostFrequentPairFirstTiesToTheSmallerBytes() throws Exception {
        BpeTrainer.Result result = BpeTrainer.builder().vocabSize(261).minFrequency(1).specialTokens(List.of())
                .build().train(List.of("cd ab", "xy xy"));
        JsonNode merges = JSON.readTree(result.toJson()).at("/model/merges");
        // "xy" occurs twice, so it leads; then the ties go by bytes: left token first (" " < " a" < "c"), then right
        assertThat(merges.get(0).asText()).isEqualTo("x y");
        assertThat(merges.get(1).asText()).isEqualTo("Ġ a");
        assertThat(merges.get(2).asText()).isEqualTo("Ġ xy");
        assertThat(merges.get(3).asText()).isEqualTo("Ġa b");
        assertThat(merges.get(4).asText()).isEqualTo("c d");
    }

    @Test
    void stopsWhenNoPairIsFrequentEnough() {
        BpeTrainer.Result result = BpeTrainer.builder().vocabSize(5000).build().train(List.of("abc abc", "xyz"));
        assertThat(result.merges()).isEqualTo(2); // "a b" then "ab c": the only pairs seen twice
        assertThat(result.mergeableTokens()).isEqualTo(256 + result.merges());
    }

    @Test
    void rarePiecesAreDroppedWhenOverTheCap() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            texts.add("common words here unique" + i);
        }
        BpeTrainer.Result capped = BpeTrainer.builder().vocabSize(400).maxPieces(100).build().train(texts);
        Tokenizer tokenizer = capped.tokenizer();
        assertThat(tokenizer.encode("common")).hasSize(1);
        assertThat(tokenizer.encode(" here")).hasSize(1);
        assertThat(tokenizer.decode(tokenizer.encode("unique1234"))).isEqualTo("unique1234");
    }

    @Test
    void huggingFaceLoadsTheFileAndAgrees(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        BpeTrainer.builder().vocabSize(1000).pattern(BpeTrainer.CL100K_PATTERN).build().train(corpus()).writeJson(file);
        Tokenizer ours = Tokenizers.load(file.toString());
        try (HuggingFaceTokenizer reference = HuggingFaceTokenizer.newInstance(file,
                Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"))) {
            for (String text : new TextGenerator(9).texts(500, 30)) {
                long[] expected = reference.encode(text, false, false).getIds();
                assertThat(Arrays.stream(ours.encode(text, SpecialTokens.all())).asLongStream().toArray())
                        .as(TiktokenExactnessTest.escape(text)).isEqualTo(expected);
            }
        }
    }

    @Test
    void vocabularyTooSmallIsRefused() {
        assertThatThrownBy(() -> BpeTrainer.builder().vocabSize(100).build()).isInstanceOf(IllegalArgumentException.class);
    }
}
