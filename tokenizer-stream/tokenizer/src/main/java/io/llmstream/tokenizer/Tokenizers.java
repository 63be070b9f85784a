package io.llmstream.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loads tokenizers: OpenAI's encodings by name, tiktoken rank files, and HuggingFace tokenizer.json files.
 *
 * <pre>{@code
 * Tokenizer cl100k = Tokenizers.load("cl100k_base");
 * Tokenizer llama = Tokenizers.load("/models/llama-3/tokenizer.json");
 * }</pre>
 */
public final class Tokenizers {
    /** The built-in encodings; their rank files come from jtokkit's jar (byte-identical to OpenAI's). */
    public static final List<String> BUILT_IN = List.of("r50k_base", "p50k_base", "cl100k_base", "o200k_base");

    private static final String ENDOFTEXT = "<|endoftext|>";
    private static final Map<String, Definition> DEFINITIONS = Map.of(
            "r50k_base", new Definition(Splitter.R50K, Map.of(ENDOFTEXT, 50256)),
            "p50k_base", new Definition(Splitter.R50K, Map.of(ENDOFTEXT, 50256)),
            "cl100k_base", new Definition(Splitter.CL100K, Map.of(ENDOFTEXT, 100257, "<|fim_prefix|>", 100258,
                    "<|fim_middle|>", 100259, "<|fim_suffix|>", 100260, "<|endofprompt|>", 100276)),
            "o200k_base", new Definition(Splitter.O200K, Map.of(ENDOFTEXT, 199999, "<|endofprompt|>", 200018)));
    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private record Definition(String pattern, Map<String, Integer> specialTokens) {
    }

    private Tokenizers() {
    }

    /**
     * A built-in encoding by name (cached: later calls return the same instance), or the tokenizer in a file: a
     * tokenizer.json (or a directory holding one), or a {@code <built-in name>.tiktoken} rank file (other rank files
     * need their pattern: {@link #tiktoken(Path, String, Map)}).
     *
     * @throws IllegalArgumentException for an unknown name, or a file this library cannot load (the message names the
     *                                  unsupported component)
     * @throws UncheckedIOException     if the file cannot be read
     */
    public static Tokenizer load(String nameOrPath) {
        Objects.requireNonNull(nameOrPath, "nameOrPath");
        if (DEFINITIONS.containsKey(nameOrPath)) {
            return LOADED.computeIfAbsent(nameOrPath, Tokenizers::loadBuiltIn);
        }
        Path path = Path.of(nameOrPath);
        if (Files.isDirectory(path)) {
            path = path.resolve("tokenizer.json");
        }
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("unknown tokenizer '" + nameOrPath + "': neither a built-in encoding "
                    + BUILT_IN + " nor a file");
        }
        String file = path.getFileName().toString();
        if (file.endsWith(".tiktoken")) {
            String base = file.substring(0, file.length() - ".tiktoken".length());
            Definition definition = DEFINITIONS.get(base);
            if (definition == null) {
                throw new IllegalArgumentException(path + ": a .tiktoken rank file does not say its pre-tokenization "
                        + "pattern; load it with Tokenizers.tiktoken(path, pattern, specialTokens)");
            }
            return tiktoken(path, definition.pattern(), definition.specialTokens());
        }
        return huggingFace(path);
    }

    /**
     * A tiktoken encoding from a rank file, its pre-tokenization regex (tiktoken's syntax; a known encoding's pattern
     * runs on a hand-written scanner, any other on java.util.regex) and its special tokens.
     */
    public static Tokenizer tiktoken(Path rankFile, String pattern, Map<String, Integer> specialTokens) {
        try (InputStream in = Files.newInputStream(rankFile)) {
            return tiktoken(rankFile.toString(), in, pattern, specialTokens);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + rankFile, e);
        }
    }

    /** A HuggingFace tokenizer.json of the byte-level BPE family. */
    public static Tokenizer huggingFace(Path tokenizerJson) {
        try {
            return HuggingFaceJson.read(tokenizerJson.toString(), Files.readAllBytes(tokenizerJson));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerJson, e);
        }
    }

    static Tokenizer tiktoken(String name, InputStream ranks, String pattern, Map<String, Integer> specialTokens)
            throws IOException {
        Vocabulary.Builder vocabulary = new Vocabulary.Builder();
        TiktokenFile.read(ranks, name, vocabulary);
        List<AddedTokens.Token> specials = new ArrayList<>();
        specialTokens.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> {
            vocabulary.add(e.getValue(), e.getKey().getBytes(StandardCharsets.UTF_8), false);
            specials.add(AddedTokens.Token.special(e.getValue(), e.getKey()));
        });
        return new Tokenizer(name, BytePairEncoder.ranked(vocabulary.build()), PreTokenizer.tiktoken(pattern),
                TextNormalizer.NONE, new AddedTokens(specials));
    }

    private static Tokenizer loadBuiltIn(String name) {
        Definition definition = DEFINITIONS.get(name);
        String resource = "/com/knuddels/jtokkit/" + name + ".tiktoken";
        try (InputStream in = Tokenizers.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the rank file " + resource + " is not on the classpath (jtokkit's jar)");
            }
            return tiktoken(name, in, definition.pattern(), definition.specialTokens());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }
}
