package io.llmstream.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of what the tokenizer library reads from outside: tokenizer.json files with one node removed or
 * replaced by a value of another type (each loads or is refused with an {@link IllegalArgumentException} naming the
 * problem; no other exception), and random Unicode text (byte-level BPE gives it back exactly; lone surrogates come
 * back as U+FFFD, as UTF-8 encoding has it).
 */
class TokenizerFuzzTest {
    private static final Path MODELS = Path.of(System.getProperty("llmstream.shared", "../../../shared"))
            .resolve("models");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MUTATIONS_PER_FILE = 400;

    @Test
    void mutatedTokenizerFilesLoadOrAreRefusedWithAReason() throws IOException {
        SplittableRandom random = new SplittableRandom(42);
        int loaded = 0;
        int refused = 0;
        List<String> failures = new ArrayList<>();
        for (String fixture : List.of("qwen2-fp32", "llama2style-fp32")) {
            JsonNode original = JSON.readTree(Files.readAllBytes(MODELS.resolve(fixture).resolve("tokenizer.json")));
            for (int i = 0; i < MUTATIONS_PER_FILE; i++) {
                JsonNode mutant = original.deepCopy();
                String what = mutate(mutant, random);
                try {
                    Tokenizer tokenizer = HuggingFaceJson.read(fixture, JSON.writeValueAsBytes(mutant));
                    tokenizer.decode(tokenizer.encode("Kafka streams tokens, naïve café 東京 🙂\n"));
                    loaded++;
                } catch (IllegalArgumentException e) {
                    assertThat(e.getMessage()).as(what).isNotBlank();
                    refused++;
                } catch (IOException | RuntimeException e) {
                    failures.add(fixture + " " + what + ": " + e);
                }
            }
        }
        System.out.printf("TokenizerFuzzTest: %d mutated tokenizer.json files, %d loaded, %d refused%n",
                loaded + refused + failures.size(), loaded, refused);
        assertThat(failures).isEmpty();
    }

    @Test
    void randomUnicodeComesBackFromByteLevelBpe() {
        Tokenizer qwen = Tokenizers.huggingFace(MODELS.resolve("qwen2-fp32").resolve("tokenizer.json"));
        Tokenizer cl100k = Tokenizers.load("cl100k_base");
        SplittableRandom random = new SplittableRandom(7);
        int texts = 0;
        for (; texts < 3_000; texts++) {
            String text = randomText(random);
            StringBuilder expected = new StringBuilder(); // lone surrogates become U+FFFD
            text.codePoints().forEach(cp -> expected.appendCodePoint(Character.isSurrogate((char) cp)
                    && cp <= Character.MAX_VALUE ? 0xFFFD : cp));
            for (Tokenizer tokenizer : List.of(qwen, cl100k)) {
                String back = tokenizer.decode(tokenizer.encode(text));
                assertThat(back).as("%s: %s came back as %s", tokenizer.name(), codePoints(text), codePoints(back))
                        .isEqualTo(expected.toString());
            }
        }
        System.out.printf("TokenizerFuzzTest: %d random texts round-tripped by 2 tokenizers%n", texts);
    }

    /** Removes one node, or replaces it with a value of another type; says what it did. */
    private static String mutate(JsonNode root, SplittableRandom random) {
        List<String> paths = new ArrayList<>();
        List<JsonNode> parents = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        collect(root, "", paths, parents, keys, random);
        int pick = random.nextInt(paths.size());
        JsonNode parent = parents.get(pick);
        Object key = keys.get(pick);
        JsonNode replacement = switch (random.nextInt(6)) {
            case 0 -> null; // removed
            case 1 -> JsonNodeFactory.instance.nullNode();
            case 2 -> JsonNodeFactory.instance.numberNode(random.nextInt(-5, 100_000));
            case 3 -> JsonNodeFactory.instance.textNode("x" + random.nextInt(100));
            case 4 -> JsonNodeFactory.instance.objectNode();
            default -> JsonNodeFactory.instance.arrayNode();
        };
        if (parent instanceof ObjectNode object) {
            if (replacement == null) {
                object.remove((String) key);
            } else {
                object.set((String) key, replacement);
            }
        } else if (parent instanceof ArrayNode array) {
            if (replacement == null) {
                array.remove((Integer) key);
            } else {
                array.set((Integer) key, replacement);
            }
        }
        return paths.get(pick) + (replacement == null ? " removed" : " := " + replacement);
    }

    /** Nodes reachable from {@code node}, with their parents; a few sampled out of large arrays and maps. */
    private static void collect(JsonNode node, String path, List<String> paths, List<JsonNode> parents,
                                List<Object> keys, SplittableRandom random) {
        if (node.isObject()) {
            int size = node.size();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (size > 50 && random.nextInt(size) > 20) {
                    continue; // the vocabulary: a sample of its entries is enough
                }
                paths.add(path + "." + e.getKey());
                parents.add(node);
                keys.add(e.getKey());
                collect(e.getValue(), path + "." + e.getKey(), paths, parents, keys, random);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                if (node.size() > 50 && random.nextInt(node.size()) > 20) {
                    continue;
                }
                paths.add(path + "[" + i + "]");
                parents.add(node);
                keys.add(i);
                collect(node.get(i), path + "[" + i + "]", paths, parents, keys, random);
            }
        }
    }

    private static String codePoints(String s) {
        return s.codePoints().mapToObj(cp -> String.format("U+%04X", cp)).toList().toString();
    }

    private static String randomText(SplittableRandom random) {
        StringBuilder text = new StringBuilder();
        for (int n = random.nextInt(1, 40); n > 0; n--) {
            int kind = random.nextInt(10);
            int cp = switch (kind) {
                case 0, 1, 2 -> random.nextInt(0x20, 0x7f); // ASCII
                case 3 -> " \n\t\r".charAt(random.nextInt(4));
                case 4 -> random.nextInt(0x300, 0x370); // combining marks
                case 5 -> random.nextInt(0x4e00, 0x9fff); // CJK
                case 6 -> random.nextInt(0x1f300, 0x1faff); // emoji, beyond the BMP
                case 7 -> random.nextInt(0xd800, 0xe000); // a lone surrogate
                case 8 -> random.nextInt(0x80, 0x800);
                default -> random.nextInt(0x10000, 0x110000);
            };
            text.appendCodePoint(cp);
        }
        return text.toString();
    }
}
