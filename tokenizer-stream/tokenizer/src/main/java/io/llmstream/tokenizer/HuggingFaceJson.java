package io.llmstream.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads HuggingFace tokenizer.json files of the byte-level BPE family (GPT-2, GPT-4o, Llama-3, Qwen2/3, DeepSeek-V3
 * and the files {@link BpeTrainer} writes). Supported: model BPE (merges as "a b" strings or [a, b] pairs,
 * ignore_merges), added tokens, normalizers NFC/NFD/NFKC/NFKD and Sequence of them, pre-tokenizers Split and Sequence
 * of Splits ending in ByteLevel, decoder ByteLevel; and the SentencePiece-style BPE of Llama-2 / Mistral / TinyLlama /
 * Gemma (byte_fallback, see {@link SentencePiece}). Anything else is refused at load, naming the component.
 */
final class HuggingFaceJson {
    /** Field names are not canonicalized: a vocab has 200k distinct ones, each seen once. */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).disable(JsonFactory.Feature.INTERN_FIELD_NAMES).build());

    private HuggingFaceJson() {
    }

    static Tokenizer read(String name, byte[] json) throws IOException {
        try {
            return read(name, parse(json));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    /** The file's parts; vocab and merges are streamed into lists rather than a tree (a JSON tree of 400k nodes is slow to build). */
    private record Parsed(ObjectNode root, ObjectNode model, List<String> vocab, IntList ids, List<String> merges) {
    }

    private static Parsed parse(byte[] json) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode model = JSON.createObjectNode();
        List<String> vocab = new ArrayList<>();
        IntList ids = new IntList(1024);
        List<String> merges = new ArrayList<>(); // left, right, left, right...
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("not a tokenizer.json object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                if (p.nextToken() != JsonToken.START_OBJECT || !field.equals("model")) {
                    root.set(field, JSON.readTree(p));
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String option = p.currentName();
                    JsonToken value = p.nextToken();
                    if (option.equals("vocab") && value == JsonToken.START_OBJECT) {
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            vocab.add(p.currentName());
                            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                                throw new IllegalArgumentException("vocab entry " + vocab.get(vocab.size() - 1)
                                        + " has no integer id");
                            }
                            ids.add(p.getIntValue());
                        }
                    } else if (option.equals("merges") && value == JsonToken.START_ARRAY) {
                        readMerges(p, merges);
                    } else {
                        model.set(option, JSON.readTree(p));
                    }
                }
            }
        }
        return new Parsed(root, model, vocab, ids, merges);
    }

    /** Merges as "a b" strings or as [a, b] pairs. */
    private static void readMerges(JsonParser p, List<String> merges) throws IOException {
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t == JsonToken.VALUE_STRING) {
                String merge = p.getText();
                int space = merge.indexOf(' ');
                if (space < 0 || merge.indexOf(' ', space + 1) >= 0) {
                    throw new IllegalArgumentException("merge " + merges.size() / 2 + " is not a pair: " + merge);
                }
                merges.add(merge.substring(0, space));
                merges.add(merge.substring(space + 1));
            } else if (t == JsonToken.START_ARRAY && p.nextToken() == JsonToken.VALUE_STRING) {
                String left = p.getText();
                if (p.nextToken() != JsonToken.VALUE_STRING) {
                    throw new IllegalArgumentException("merge " + merges.size() / 2 + " is not a pair");
                }
                merges.add(left);
                merges.add(p.getText());
                if (p.nextToken() != JsonToken.END_ARRAY) {
                    throw new IllegalArgumentException("merge " + (merges.size() / 2 - 1) + " is not a pair");
                }
            } else {
                throw new IllegalArgumentException("merge " + merges.size() / 2 + " is not a pair");
            }
        }
    }

    private static Tokenizer read(String name, Parsed parsed) {
        JsonNode root = parsed.root();
        JsonNode model = parsed.model();
        String modelType = model.path("type").asText("BPE");
        if (!modelType.equals("BPE")) {
            throw unsupported("model", modelType, "only byte-level BPE models are supported");
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            return readSentencePiece(name, parsed);
        }
        if (model.path("dropout").isNumber() && model.path("dropout").asDouble() > 0) {
            throw unsupported("model", "BPE with dropout", "tokenization must be deterministic");
        }
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!model.path(affix).asText("").isEmpty()) {
                throw unsupported("model", "BPE with " + affix, "byte-level BPE has none");
            }
        }
        PreTokenizer preTokenizer = preTokenizer(root.path("pre_tokenizer"));
        TextNormalizer normalizer = normalizer(root.path("normalizer"));
        JsonNode decoder = root.path("decoder");
        if (!decoder.path("type").asText("null").equals("ByteLevel")) {
            throw unsupported("decoder", decoder.path("type").asText("null"), "the decoder must be ByteLevel");
        }
        if (parsed.vocab().isEmpty()) {
            throw new IllegalArgumentException("the model has no vocab");
        }

        // added tokens decode as their content; a vocab entry with the same id (GPT-2, GPT-4o) yields to it
        List<AddedTokens.Token> added = addedTokens(root);
        Set<Integer> addedIds = ids(added);
        Vocabulary.Builder builder = new Vocabulary.Builder();
        // tokens spelled outside the byte-level alphabet can never come out of BPE, but they still decode
        Map<String, Integer> unspellable = new HashMap<>();
        for (int i = 0; i < parsed.vocab().size(); i++) {
            String token = parsed.vocab().get(i);
            int id = parsed.ids().get(i);
            byte[] bytes = ByteLevel.decode(token);
            if (bytes == null) {
                unspellable.put(token, id);
            }
            if (!addedIds.contains(id)) {
                builder.add(id, bytes != null ? bytes : token.getBytes(StandardCharsets.UTF_8), bytes != null);
            }
        }
        for (AddedTokens.Token t : added) {
            builder.add(t.id(), t.content().getBytes(StandardCharsets.UTF_8), false);
        }
        Vocabulary vocabulary = builder.build();
        List<String> merges = parsed.merges();
        int count = merges.size() / 2;
        int[] left = new int[count];
        int[] right = new int[count];
        int[] result = new int[count];
        byte[] buffer = new byte[2 * (vocabulary.maxMergeableLength() + 1)];
        for (int rank = 0; rank < count; rank++) {
            String a = merges.get(2 * rank);
            String b = merges.get(2 * rank + 1);
            int middle = ByteLevel.decodeInto(a, buffer, 0);
            int end = middle < 0 ? -1 : ByteLevel.decodeInto(b, buffer, middle);
            if (end < 0) { // a token outside the byte-level alphabet, or longer than any
                left[rank] = vocabId(unspellable, a, a, b);
                right[rank] = vocabId(unspellable, b, a, b);
                result[rank] = vocabId(unspellable, a + b, a, b);
            } else {
                left[rank] = found(vocabulary.find(buffer, 0, middle), a, a, b);
                right[rank] = found(vocabulary.find(buffer, middle, end - middle), b, a, b);
                result[rank] = found(vocabulary.find(buffer, 0, end), a + b, a, b);
            }
        }
        BytePairEncoder bpe = BytePairEncoder.merges(vocabulary, left, right, result,
                model.path("ignore_merges").asBoolean(false));
        return new Tokenizer(name, bpe, preTokenizer, normalizer, new AddedTokens(added, normalizer), null,
                SpecialTokenTemplate.read(root.path("post_processor")));
    }

    /**
     * The SentencePiece-style BPE of Llama-2, Mistral, TinyLlama and Gemma files: byte_fallback; spaces made "▁" by the
     * normalizers Prepend("▁") + Replace(" ", "▁") (Llama-2), Replace alone (Gemma) or a Metaspace pre-tokenizer
     * (newer Llama and Mistral files); a decoder that undoes them (Replace or Metaspace, ByteFallback, Fuse, and
     * Strip where a prefix is stripped). A token decodes as its text with "▁" as a space, a byte token
     * {@code <0xNN>} as its byte.
     */
    private static Tokenizer readSentencePiece(String name, Parsed parsed) {
        JsonNode root = parsed.root();
        List<JsonNode> steps = sequence(root.path("normalizer"), "normalizers");
        List<String> types = steps.stream().map(n -> n.path("type").asText()).toList();
        boolean prepends = types.equals(List.of("Prepend", "Replace")) && isSpace(steps.get(0).path("prepend"));
        boolean replaces = (prepends || types.equals(List.of("Replace"))) && replacesSpaces(steps.get(steps.size() - 1));
        if (!types.isEmpty() && !replaces) {
            throw unsupported("normalizer", root.path("normalizer").toString(), "BPE with byte_fallback is supported "
                    + "with the normalizers Prepend(\"\u2581\") + Replace(\" \", \"\u2581\") or Replace alone");
        }
        JsonNode pre = root.path("pre_tokenizer");
        SentencePiece.Prefix prefix = prepends ? SentencePiece.Prefix.ALWAYS : SentencePiece.Prefix.NEVER;
        boolean splits = false;
        if (!pre.isMissingNode() && !pre.isNull()) {
            if (!pre.path("type").asText().equals("Metaspace") || !isSpace(pre.path("replacement")) || prepends) {
                throw unsupported("pre_tokenizer", pre.toString(), "BPE with byte_fallback is supported with none or "
                        + "Metaspace(\"\u2581\") after no normalizer or Replace");
            }
            prefix = metaspacePrefix(pre, "pre_tokenizer");
            splits = pre.path("split").asBoolean(true);
        } else if (!replaces) {
            throw unsupported("normalizer", "null", "BPE with byte_fallback needs spaces made \"\u2581\" by a "
                    + "normalizer or a Metaspace pre-tokenizer");
        }
        JsonNode decoder = root.path("decoder");
        List<JsonNode> decoders = sequence(decoder, "decoders");
        List<String> names = decoders.stream().map(d -> d.path("type").asText()).toList();
        boolean strip = names.size() == 4 && names.get(3).equals("Strip") && decoders.get(3).path("content").asText().equals(" ")
                && decoders.get(3).path("start").asInt() == 1 && decoders.get(3).path("stop").asInt() == 0;
        JsonNode first = decoders.isEmpty() ? decoder : decoders.get(0);
        boolean unreplaces = first.path("type").asText().equals("Replace") && isSpace(first.path("pattern").path("String"))
                && first.path("content").asText().equals(" ");
        boolean metaspace = first.path("type").asText().equals("Metaspace") && isSpace(first.path("replacement"));
        if (!(unreplaces || metaspace) || names.size() != (strip ? 4 : 3)
                || !names.subList(1, 3).equals(List.of("ByteFallback", "Fuse"))) {
            throw unsupported("decoder", decoder.toString(), "supported with byte_fallback: Sequence of Replace(\"\u2581\", "
                    + "\" \") or Metaspace, ByteFallback, Fuse and an optional Strip(\" \", 1, 0)");
        }
        strip |= metaspace && metaspacePrefix(first, "decoder") != SentencePiece.Prefix.NEVER;
        List<AddedTokens.Token> added = addedTokens(root);
        Set<Integer> addedIds = ids(added);
        Vocabulary.Builder builder = new Vocabulary.Builder();
        Map<String, Integer> ids = new HashMap<>();
        Map<Integer, Integer> characters = new HashMap<>();
        int[] byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        for (int i = 0; i < parsed.vocab().size(); i++) {
            String token = parsed.vocab().get(i);
            int id = parsed.ids().get(i);
            ids.put(token, id);
            if (addedIds.contains(id)) {
                continue;
            }
            int b = byteToken(token);
            if (b >= 0) {
                byteIds[b] = id;
                builder.add(id, new byte[] {(byte) b}, false);
                continue;
            }
            if (token.codePointCount(0, token.length()) == 1) {
                characters.put(token.codePointAt(0), id);
            }
            builder.add(id, token.replace(SentencePiece.SPACE, ' ').getBytes(StandardCharsets.UTF_8), true);
        }
        for (int b = 0; b < 256; b++) {
            if (byteIds[b] < 0) {
                throw new IllegalArgumentException("byte_fallback without the byte token <0x"
                        + String.format("%02X", b) + ">");
            }
        }
        for (AddedTokens.Token t : added) {
            builder.add(t.id(), t.content().getBytes(StandardCharsets.UTF_8), false);
        }
        List<String> merges = parsed.merges();
        int count = merges.size() / 2;
        int[] left = new int[count];
        int[] right = new int[count];
        int[] result = new int[count];
        for (int rank = 0; rank < count; rank++) {
            String a = merges.get(2 * rank);
            String b = merges.get(2 * rank + 1);
            left[rank] = vocabId(ids, a, a, b);
            right[rank] = vocabId(ids, b, a, b);
            result[rank] = vocabId(ids, a + b, a, b);
        }
        BytePairEncoder bpe = BytePairEncoder.characterMerges(builder.build(), left, right, result);
        return new Tokenizer(name, bpe, PreTokenizer.NONE, TextNormalizer.NONE,
                new AddedTokens(added, TextNormalizer.NONE), new SentencePiece(characters, byteIds, prefix, splits, strip),
                SpecialTokenTemplate.read(root.path("post_processor")));
    }

    /** The steps of a Sequence (its {@code field}), or the one component, or none for null. */
    private static List<JsonNode> sequence(JsonNode node, String field) {
        List<JsonNode> steps = new ArrayList<>();
        if (node.path("type").asText().equals("Sequence")) {
            node.path(field).forEach(steps::add);
        } else if (!node.isMissingNode() && !node.isNull()) {
            steps.add(node);
        }
        return steps;
    }

    private static boolean isSpace(JsonNode text) {
        return text.asText().equals(String.valueOf(SentencePiece.SPACE));
    }

    private static boolean replacesSpaces(JsonNode replace) {
        return replace.path("type").asText().equals("Replace") && replace.path("pattern").path("String").asText().equals(" ")
                && isSpace(replace.path("content"));
    }

    /** A Metaspace's prepend_scheme, or its legacy add_prefix_space (true: always). */
    private static SentencePiece.Prefix metaspacePrefix(JsonNode metaspace, String component) {
        String scheme = metaspace.path("prepend_scheme")
                .asText(metaspace.path("add_prefix_space").asBoolean(true) ? "always" : "never");
        return switch (scheme) {
            case "always" -> SentencePiece.Prefix.UNLESS_SPACE;
            case "first" -> SentencePiece.Prefix.FIRST;
            case "never" -> SentencePiece.Prefix.NEVER;
            default -> throw unsupported(component, "Metaspace prepend_scheme " + scheme, "always, first or never");
        };
    }

    /** The file's added_tokens; normalized defaults to true for non-special ones, as in HuggingFace tokenizers. */
    private static List<AddedTokens.Token> addedTokens(JsonNode root) {
        List<AddedTokens.Token> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            added.add(new AddedTokens.Token(t.path("id").asInt(-1), t.path("content").asText(),
                    t.path("special").asBoolean(false), t.path("single_word").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                    t.path("normalized").asBoolean(!t.path("special").asBoolean())));
        }
        return added;
    }

    private static Set<Integer> ids(List<AddedTokens.Token> tokens) {
        Set<Integer> ids = new HashSet<>();
        tokens.forEach(t -> ids.add(t.id()));
        return ids;
    }

    /** The byte of a {@code <0xNN>} token, or -1. */
    private static int byteToken(String token) {
        if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            try {
                return Integer.parseInt(token.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    private static int vocabId(Map<String, Integer> unspellable, String token, String a, String b) {
        return found(unspellable.getOrDefault(token, -1), token, a, b);
    }

    private static int found(int id, String token, String a, String b) {
        if (id < 0) {
            throw new IllegalArgumentException("merge '" + a + " " + b + "' refers to '" + token + "', not in the vocab");
        }
        return id;
    }

    private static TextNormalizer normalizer(JsonNode node) {
        List<Normalizer.Form> forms = new ArrayList<>();
        addNormalizer(node, forms);
        return forms.isEmpty() ? TextNormalizer.NONE : new TextNormalizer(forms);
    }

    private static void addNormalizer(JsonNode node, List<Normalizer.Form> forms) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "NFC" -> forms.add(Normalizer.Form.NFC);
            case "NFD" -> forms.add(Normalizer.Form.NFD);
            case "NFKC" -> forms.add(Normalizer.Form.NFKC);
            case "NFKD" -> forms.add(Normalizer.Form.NFKD);
            case "Sequence" -> node.path("normalizers").forEach(n -> addNormalizer(n, forms));
            default -> throw unsupported("normalizer", type, "supported: NFC, NFD, NFKC, NFKD and Sequence of them");
        }
    }

    private static PreTokenizer preTokenizer(JsonNode node) {
        List<JsonNode> chain = new ArrayList<>();
        flatten(node, chain);
        List<PreTokenizer.Split> splits = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            JsonNode step = chain.get(i);
            String type = step.path("type").asText();
            switch (type) {
                case "Split" -> splits.add(split(step));
                case "ByteLevel" -> {
                    if (i != chain.size() - 1) {
                        throw unsupported("pre_tokenizer", "ByteLevel followed by other pre-tokenizers",
                                "ByteLevel must come last");
                    }
                    return new PreTokenizer(splits, true, step.path("add_prefix_space").asBoolean(true),
                            step.path("use_regex").asBoolean(true));
                }
                default -> throw unsupported("pre_tokenizer", type,
                        "supported: ByteLevel, Split, and Sequence of Splits ending in ByteLevel");
            }
        }
        throw unsupported("pre_tokenizer", chain.isEmpty() ? "null" : "a chain without ByteLevel",
                "only byte-level BPE is supported, which needs a ByteLevel pre-tokenizer");
    }

    private static void flatten(JsonNode node, List<JsonNode> chain) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        if (node.path("type").asText().equals("Sequence")) {
            node.path("pretokenizers").forEach(n -> flatten(n, chain));
        } else {
            chain.add(node);
        }
    }

    private static PreTokenizer.Split split(JsonNode node) {
        JsonNode pattern = node.path("pattern");
        boolean literal = pattern.has("String");
        String text = literal ? pattern.path("String").asText() : pattern.path("Regex").asText(null);
        if (text == null) {
            throw unsupported("pre_tokenizer", "Split without a String or Regex pattern", "");
        }
        String behavior = node.path("behavior").asText("Isolated");
        PreTokenizer.Behavior b = switch (behavior) {
            case "Removed" -> PreTokenizer.Behavior.REMOVED;
            case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
            case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> PreTokenizer.Behavior.CONTIGUOUS;
            default -> throw unsupported("pre_tokenizer", "Split behavior " + behavior, "");
        };
        return new PreTokenizer.Split(text, literal, b, node.path("invert").asBoolean(false));
    }

    /**
     * The tokenizer.json of a tokenizer: HuggingFace's reading of it gives the same ids as ours. A tiktoken encoding
     * is written with merge rules derived from its ranks (each token's split by its own lower-ranked tokens, as
     * tiktoken's converters do) and {@code ignore_merges}, which makes HuggingFace look whole pieces up first; its
     * pattern becomes a Split keeping the matches, followed by ByteLevel without its own regex.
     */
    static String write(Tokenizer tokenizer) {
        BytePairEncoder bpe = tokenizer.bytePairEncoder();
        Vocabulary vocabulary = bpe.vocabulary();
        long[] merges = bpe.mergeRules();
        if (merges == null) {
            merges = derivedMerges(vocabulary);
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        var added = root.putArray("added_tokens");
        for (AddedTokens.Token t : tokenizer.addedTokens().list()) {
            added.addObject().put("id", t.id()).put("content", t.content()).put("single_word", t.singleWord())
                    .put("lstrip", t.lstrip()).put("rstrip", t.rstrip()).put("normalized", t.normalized())
                    .put("special", t.special());
        }
        List<Normalizer.Form> forms = tokenizer.normalizer().forms();
        if (forms.isEmpty()) {
            root.putNull("normalizer");
        } else {
            var list = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
            forms.forEach(form -> list.addObject().put("type", form.name()));
        }
        PreTokenizer pre = tokenizer.preTokenizer();
        ObjectNode sequence = root.putObject("pre_tokenizer").put("type", "Sequence");
        var chain = sequence.putArray("pretokenizers");
        for (PreTokenizer.Split split : pre.splits()) {
            ObjectNode node = chain.addObject().put("type", "Split");
            String pattern = split.pattern().equals(Splitter.CL100K) ? Splitter.CL100K_PORTABLE : split.pattern();
            node.putObject("pattern").put(split.literal() ? "String" : "Regex", pattern);
            node.put("behavior", BEHAVIORS.get(split.behavior())).put("invert", split.invert());
        }
        chain.addObject().put("type", "ByteLevel").put("add_prefix_space", pre.addPrefixSpace())
                .put("trim_offsets", true).put("use_regex", pre.byteLevelRegex());
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", bpe.wholePieceFirst());
        ObjectNode vocab = model.putObject("vocab");
        String[] spelled = new String[vocabulary.size()];
        for (int id = 0; id < vocabulary.size(); id++) {
            if (vocabulary.isMergeable(id)) {
                spelled[id] = ByteLevel.encode(vocabulary.bytes(id));
                vocab.put(spelled[id], id);
            }
        }
        for (AddedTokens.Token t : tokenizer.addedTokens().list()) {
            vocab.put(t.content(), t.id()); // so that HuggingFace keeps the id (it renumbers added tokens it cannot find)
        }
        var rules = model.putArray("merges");
        for (long merge : merges) {
            rules.add(spelled[(int) (merge >>> 32)] + " " + spelled[(int) merge]);
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Map<PreTokenizer.Behavior, String> BEHAVIORS = Map.of(
            PreTokenizer.Behavior.REMOVED, "Removed", PreTokenizer.Behavior.ISOLATED, "Isolated",
            PreTokenizer.Behavior.MERGED_WITH_PREVIOUS, "MergedWithPrevious",
            PreTokenizer.Behavior.MERGED_WITH_NEXT, "MergedWithNext", PreTokenizer.Behavior.CONTIGUOUS, "Contiguous");

    /**
     * Merge rules for tiktoken ranks, in rank order: a token's rule joins the two parts that BPE leaves when it
     * merges the token's bytes using only lower ranks.
     */
    private static long[] derivedMerges(Vocabulary vocabulary) {
        IntList rules = new IntList(2 * vocabulary.mergeableCount());
        int[] starts = new int[vocabulary.maxMergeableLength() + 1];
        tokens:
        for (int id = 0; id < vocabulary.size(); id++) {
            if (!vocabulary.isMergeable(id) || vocabulary.length(id) < 2) {
                continue;
            }
            byte[] token = vocabulary.bytes(id);
            int n = token.length;
            for (int i = 0; i <= n; i++) {
                starts[i] = i;
            }
            while (n > 2) {
                int best = Integer.MAX_VALUE;
                int at = -1;
                for (int i = 0; i + 2 <= n; i++) {
                    int rank = vocabulary.find(token, starts[i], starts[i + 2] - starts[i]);
                    if (rank >= 0 && rank < id && rank < best) {
                        best = rank;
                        at = i;
                    }
                }
                if (at < 0) {
                    continue tokens; // only whole-piece lookup reaches this token: no rule
                }
                System.arraycopy(starts, at + 2, starts, at + 1, n - at - 1);
                n--;
            }
            rules.add(vocabulary.find(token, 0, starts[1]));
            rules.add(vocabulary.find(token, starts[1], token.length - starts[1]));
        }
        long[] merges = new long[rules.size() / 2];
        for (int i = 0; i < merges.length; i++) {
            merges[i] = (long) rules.get(2 * i) << 32 | rules.get(2 * i + 1);
        }
        return merges;
    }

    private static IllegalArgumentException unsupported(String component, String what, String hint) {
        return new IllegalArgumentException("unsupported " + component + ": " + what + (hint.isEmpty() ? "" : " (" + hint + ")"));
    }
}
