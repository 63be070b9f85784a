package io.llmstream.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SentencePiece-style tokenizer.json of ../shared/tokenizers (Mistral's vocabulary in Llama-2's pipeline: BPE
 * from characters with byte_fallback, "▁" for spaces) against HuggingFace tokenizers' own ids for 300 texts.
 */
class SentencePieceTest {
    private static final Path DIR = Path.of(System.getProperty("llmstream.shared", "../../../shared")).resolve("tokenizers");
    private static Tokenizer llama2;
    private static final List<String> texts = new ArrayList<>();
    private static final List<int[]> expected = new ArrayList<>();

    @BeforeAll
    static void load() throws IOException {
        llama2 = Tokenizers.load(DIR.resolve("llama2.tokenizer.json").toString());
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(DIR.resolve("llama2.expected.jsonl"))) {
            JsonNode node = json.readTree(line);
            texts.add(node.path("text").asText());
            int[] ids = new int[node.path("ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = node.path("ids").get(i).asInt();
            }
            expected.add(ids);
        }
        assertThat(texts).hasSize(300);
    }

    @Test
    void idsEqualHuggingFaceTokenizersOnEveryText() {
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] ours = llama2.encode(texts.get(i), SpecialTokens.all());
            if (!Arrays.equals(ours, expected.get(i))) {
                wrong.add(TiktokenExactnessTest.escape(texts.get(i)) + ": " + Arrays.toString(ours) + " != "
                        + Arrays.toString(expected.get(i)));
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(llama2.vocabSize()).isEqualTo(32000);
        assertThat(llama2.specialTokens()).containsEntry("<s>", 1).containsEntry("</s>", 2).containsEntry("<unk>", 0);
        // the post-processor's template, HuggingFace's add_special_tokens: <s> before the text
        assertThat(llama2.addSpecialTokens(llama2.encode("Hello"))).containsExactly(1, 22557);
        assertThat(Tokenizers.load("cl100k_base").addSpecialTokens(new int[] {9906})).containsExactly(9906);
    }

    @Test
    void decodingGivesTheTextBackAndTruncationCutsAtTokenBoundaries() {
        for (String text : texts) {
            if (text.indexOf(SentencePiece.SPACE) >= 0) {
                continue; // a "▁" in the text is a space to the encoder, and decodes as one (as in HuggingFace)
            }
            int[] ids = llama2.encode(text);
            assertThat(llama2.decode(ids)).as(TiktokenExactnessTest.escape(text)).isEqualTo(text);
            if (ids.length > 1) {
                int keep = ids.length / 2;
                Truncation t = llama2.truncate(text, keep);
                assertThat(t.ids()).containsExactly(Arrays.copyOf(ids, keep));
                assertThat(llama2.decode(t.ids())).as(TiktokenExactnessTest.escape(text))
                        .startsWith(text.substring(0, t.charOffset()));
            }
        }
    }
}
