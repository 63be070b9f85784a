package io.llmstream.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The other spellings of SentencePiece-style BPE (Metaspace pre-tokenizers with each prepend scheme and split, Gemma's
 * Replace-only normalizer, the Metaspace decoder) on the vocabulary of ../shared/tokenizers/llama2.tokenizer.json,
 * against HuggingFace tokenizers' ids and decoded text ({@code sentencepiece/make_variants.py}).
 */
class SentencePieceVariantsTest {
    private static final Path SHARED = Path.of(System.getProperty("llmstream.shared", "../../../shared"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ObjectNode base;
    private static JsonNode variants;
    private static final List<JsonNode> cases = new ArrayList<>();

    @TempDir
    static Path dir;

    @BeforeAll
    static void load() throws IOException {
        base = (ObjectNode) JSON.readTree(SHARED.resolve("tokenizers/llama2.tokenizer.json").toFile());
        variants = JSON.readTree(resource("variants.json")).path("variants");
        for (String line : new String(resource("expected.jsonl"), StandardCharsets.UTF_8).split("\n")) {
            cases.add(JSON.readTree(line));
        }
        assertThat(cases).hasSizeGreaterThan(300);
        assertThat(variants.size()).isEqualTo(4);
    }

    @Test
    void idsAndDecodedTextEqualHuggingFaceTokenizersForEveryVariant() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = variants.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> variant = it.next();
            Tokenizer tokenizer = variant(variant.getKey(), variant.getValue());
            for (JsonNode c : cases) {
                String text = c.path("text").asText();
                int[] expected = ids(c.path("ids").path(variant.getKey()));
                int[] ours = tokenizer.encode(text, SpecialTokens.all());
                if (!Arrays.equals(ours, expected)) {
                    wrong.add(variant.getKey() + " " + TiktokenExactnessTest.escape(text) + ": "
                            + Arrays.toString(ours) + " != " + Arrays.toString(expected));
                } else if (!tokenizer.decode(ours).equals(c.path("decoded").path(variant.getKey()).asText())) {
                    wrong.add(variant.getKey() + " decode " + TiktokenExactnessTest.escape(text) + ": "
                            + TiktokenExactnessTest.escape(tokenizer.decode(ours)));
                }
            }
        }
        assertThat(wrong).isEmpty();
    }

    @Test
    void truncationCutsAtTokenBoundariesInEveryVariant() throws IOException {
        for (Iterator<Map.Entry<String, JsonNode>> it = variants.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> variant = it.next();
            Tokenizer tokenizer = variant(variant.getKey(), variant.getValue());
            for (JsonNode c : cases) {
                String text = c.path("text").asText();
                int[] ids = tokenizer.encode(text);
                if (ids.length < 2 || text.indexOf(SentencePiece.SPACE) >= 0) {
                    continue; // a "▁" in the text decodes as a space, so the decoded text is not the text
                }
                Truncation t = tokenizer.truncate(text, ids.length / 2);
                assertThat(t.ids()).containsExactly(Arrays.copyOf(ids, ids.length / 2));
                String kept = tokenizer.decode(t.ids());
                String prefix = text.substring(0, t.charOffset());
                assertThat(kept.startsWith(prefix) || (" " + kept).startsWith(prefix))
                        .as(variant.getKey() + " " + TiktokenExactnessTest.escape(text) + " cut at " + t.charOffset())
                        .isTrue();
            }
        }
    }

    @Test
    void pipelinesWeCannotReproduceAreRefusedNamingTheComponent() {
        ObjectNode metaspaceOnly = JSON.createObjectNode().put("type", "Metaspace").put("replacement", "\u2581");
        assertThatThrownBy(() -> load("decoder", metaspaceOnly))
                .hasMessageContaining("unsupported decoder").hasMessageContaining("ByteFallback");
        ObjectNode otherReplacement = JSON.createObjectNode().put("type", "Metaspace").put("replacement", "_");
        assertThatThrownBy(() -> load("pre_tokenizer", otherReplacement)).hasMessageContaining("unsupported pre_tokenizer");
        assertThatThrownBy(() -> load("normalizer", JSON.createObjectNode().put("type", "Lowercase")))
                .hasMessageContaining("unsupported normalizer");
    }

    private static Tokenizer load(String field, JsonNode component) throws IOException {
        ObjectNode doc = base.deepCopy();
        doc.set(field, component);
        Path file = dir.resolve("refused-" + field + ".json");
        Files.writeString(file, JSON.writeValueAsString(doc));
        return Tokenizers.huggingFace(file);
    }

    private static Tokenizer variant(String name, JsonNode parts) throws IOException {
        ObjectNode doc = base.deepCopy();
        parts.fields().forEachRemaining(part -> doc.set(part.getKey(), part.getValue()));
        Path file = dir.resolve(name + ".tokenizer.json");
        Files.writeString(file, JSON.writeValueAsString(doc));
        return Tokenizers.huggingFace(file);
    }

    private static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = SentencePieceVariantsTest.class.getResourceAsStream("/sentencepiece/" + name)) {
            return in.readAllBytes();
        }
    }
}
