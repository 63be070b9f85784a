package io.llmstream.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * Learns a byte-level BPE vocabulary from a stream of texts and writes it as a HuggingFace tokenizer.json (loadable
 * here and by HuggingFace tokenizers, with identical ids).
 *
 * <p>Texts are cut into pieces by a pre-tokenization pattern (special-token text is left out), and only the distinct
 * pieces and their counts are kept, so memory follows the vocabulary of the corpus, not its size; past
 * {@code maxPieces} distinct pieces the rarest are dropped. Merging is the classic loop: the most frequent adjacent
 * pair becomes a token, ties going to the smaller pair by bytes (never hash order), so the same input always gives
 * the same vocabulary. Pair counts are updated incrementally, visiting only the pieces that hold the merged pair.
 *
 * <pre>{@code
 * Tokenizer tokenizer = BpeTrainer.builder().vocabSize(8000).build().train(texts).tokenizer();
 * }</pre>
 *
 * <p>Token ids: the 256 bytes first (id = byte value), then the merges in order, then the special tokens.
 */
public final class BpeTrainer {
    /** GPT-2's pattern (as HuggingFace's ByteLevel writes it): the default. */
    public static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** cl100k's pattern, spelled as in Llama-3's tokenizer.json. */
    public static final String CL100K_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final int vocabSize;
    private final String pattern;
    private final List<String> specialTokens;
    private final int minFrequency;
    private final int maxPieces;

    private BpeTrainer(Builder b) {
        this.vocabSize = b.vocabSize;
        this.pattern = b.pattern;
        this.specialTokens = List.copyOf(b.specialTokens);
        this.minFrequency = b.minFrequency;
        this.maxPieces = b.maxPieces;
        if (vocabSize < 256 + specialTokens.size()) {
            throw new IllegalArgumentException("vocabSize must leave room for the 256 bytes and the special tokens");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Trains on the texts (read once, in order). */
    public Result train(Iterable<String> texts) {
        return train(texts.iterator());
    }

    /** Trains on the texts (read once, in order). */
    public Result train(Iterator<String> texts) {
        Map<String, long[]> counts = countPieces(texts);
        // deterministic order of the distinct pieces, whatever the map's
        String[] pieces = counts.keySet().toArray(String[]::new);
        Arrays.sort(pieces);
        Words words = new Words(pieces.length);
        for (String piece : pieces) {
            words.add(piece.getBytes(StandardCharsets.UTF_8), counts.get(piece)[0]);
        }
        List<byte[]> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(new byte[] {(byte) b});
        }
        List<int[]> merges = words.merge(tokens, vocabSize - specialTokens.size(), minFrequency);
        return new Result(tokens, merges, pattern, specialTokens);
    }

    private Map<String, long[]> countPieces(Iterator<String> texts) {
        Splitter splitter = Splitter.regex(pattern);
        AddedTokens specials = new AddedTokens(specialTokens.stream()
                .map(t -> AddedTokens.Token.special(-1, t)).toList());
        boolean[] all = specials.size() == 0 ? null : specials.masks(SpecialTokens.all()).raw();
        Map<String, long[]> counts = new HashMap<>();
        Scratch scratch = new Scratch();
        Pieces pieces = new Pieces();
        long prune = 2;
        while (texts.hasNext()) {
            String text = Objects.requireNonNull(texts.next(), "text");
            if (Utf8.hasLoneSurrogate(text)) {
                text = Utf8.replaceLoneSurrogates(text);
            }
            char[] s = text.toCharArray();
            int at = 0;
            while (at < s.length) { // the text between special tokens
                int end = s.length;
                int next = s.length;
                if (all != null && specials.find(s, 0, at, s.length, at, all, scratch.bounds) >= 0) {
                    end = scratch.bounds[0];
                    next = scratch.bounds[1];
                }
                pieces.clear();
                splitter.matches(s, at, end, pieces, scratch);
                for (int i = 0; i < pieces.size(); i++) {
                    counts.computeIfAbsent(new String(s, pieces.start(i), pieces.end(i) - pieces.start(i)),
                            k -> new long[1])[0]++;
                }
                at = next;
            }
            while (counts.size() > maxPieces) { // keep memory bounded: drop the rarest pieces
                long threshold = prune;
                counts.values().removeIf(c -> c[0] < threshold);
                prune *= 2;
            }
        }
        return counts;
    }

    /** The distinct pieces as symbol sequences, with the pair counts and the pieces each pair occurs in. */
    private static final class Words {
        private final List<int[]> symbols;
        private final List<Integer> lengths = new ArrayList<>();
        private final List<Long> counts = new ArrayList<>();
        private final Map<Long, long[]> pairCounts = new HashMap<>();
        private final Map<Long, IntList> pairWords = new HashMap<>();

        Words(int capacity) {
            symbols = new ArrayList<>(capacity);
        }

        void add(byte[] piece, long count) {
            int[] s = new int[piece.length];
            for (int i = 0; i < piece.length; i++) {
                s[i] = piece[i] & 0xFF;
            }
            int word = symbols.size();
            symbols.add(s);
            lengths.add(s.length);
            counts.add(count);
            for (int i = 0; i + 1 < s.length; i++) {
                addPair(s[i], s[i + 1], count, word);
            }
        }

        private void addPair(int a, int b, long count, int word) {
            long key = (long) a << 32 | b;
            pairCounts.computeIfAbsent(key, k -> new long[1])[0] += count;
            if (word >= 0) {
                pairWords.computeIfAbsent(key, k -> new IntList(4)).add(word);
            }
        }

        /** Merges until {@code tokens} holds {@code target} tokens; returns the merges as {left, right, result}. */
        List<int[]> merge(List<byte[]> tokens, int target, int minFrequency) {
            // most frequent first; ties to the smaller pair by bytes
            PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> {
                if (x[0] != y[0]) {
                    return Long.compare(y[0], x[0]);
                }
                int c = Arrays.compareUnsigned(tokens.get((int) (x[1] >>> 32)), tokens.get((int) (y[1] >>> 32)));
                return c != 0 ? c : Arrays.compareUnsigned(tokens.get((int) x[1]), tokens.get((int) y[1]));
            });
            pairCounts.forEach((key, count) -> queue.add(new long[] {count[0], key}));
            Map<String, Integer> ids = new HashMap<>();
            for (int id = 0; id < tokens.size(); id++) {
                ids.put(new String(tokens.get(id), StandardCharsets.ISO_8859_1), id);
            }
            List<int[]> merges = new ArrayList<>();
            int[] seen = new int[symbols.size()];
            int stamp = 0;
            while (tokens.size() < target && !queue.isEmpty()) {
                long[] top = queue.poll();
                long[] current = pairCounts.get(top[1]);
                long count = current == null ? 0 : current[0];
                if (count != top[0]) {
                    if (count > 0) {
                        queue.add(new long[] {count, top[1]}); // stale entry: requeue at the current count
                    }
                    continue;
                }
                if (count < minFrequency) {
                    break;
                }
                int a = (int) (top[1] >>> 32);
                int b = (int) top[1];
                byte[] joined = concat(tokens.get(a), tokens.get(b));
                // another pair may already have spelled these bytes: reuse its token, as HuggingFace does
                Integer existing = ids.putIfAbsent(new String(joined, StandardCharsets.ISO_8859_1), tokens.size());
                int result = existing != null ? existing : tokens.size();
                if (existing == null) {
                    tokens.add(joined);
                }
                merges.add(new int[] {a, b, result});
                stamp++;
                IntList where = pairWords.remove(top[1]);
                pairCounts.remove(top[1]);
                Map<Long, long[]> changed = new HashMap<>();
                for (int k = 0; k < where.size(); k++) {
                    int word = where.get(k);
                    if (seen[word] != stamp) {
                        seen[word] = stamp;
                        mergeWord(word, a, b, result, changed);
                    }
                }
                changed.forEach((key, delta) -> {
                    long[] c = pairCounts.get(key);
                    if (c != null && delta[0] > 0) {
                        queue.add(new long[] {c[0], key});
                    }
                });
            }
            return merges;
        }

        /** Replaces the pair in one word, left to right, and updates the pair counts; notes pairs that grew. */
        private void mergeWord(int word, int a, int b, int result, Map<Long, long[]> changed) {
            int[] s = symbols.get(word);
            int n = lengths.get(word);
            long count = counts.get(word);
            int out = 0;
            for (int i = 0; i < n; i++) {
                if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                    if (out > 0) {
                        adjust(s[out - 1], a, -count, -1, changed);
                        adjust(s[out - 1], result, count, word, changed);
                    }
                    if (i + 2 < n) {
                        adjust(b, s[i + 2], -count, -1, changed);
                        // the next pair is (result, x) unless x starts another occurrence, handled on its turn
                        adjust(result, s[i + 2], count, word, changed);
                    }
                    s[out++] = result;
                    i++;
                } else {
                    s[out++] = s[i];
                }
            }
            lengths.set(word, out);
        }

        private void adjust(int x, int y, long delta, int word, Map<Long, long[]> changed) {
            long key = (long) x << 32 | y;
            long[] c = pairCounts.get(key);
            if (c == null) {
                c = new long[1];
                pairCounts.put(key, c);
            }
            c[0] += delta;
            if (c[0] <= 0) {
                pairCounts.remove(key);
            }
            if (word >= 0) {
                pairWords.computeIfAbsent(key, k -> new IntList(4)).add(word);
            }
            changed.computeIfAbsent(key, k -> new long[1])[0] += delta;
        }

        private static byte[] concat(byte[] x, byte[] y) {
            byte[] joined = Arrays.copyOf(x, x.length + y.length);
            System.arraycopy(y, 0, joined, x.length, y.length);
            return joined;
        }
    }

    /** What training learned: the tokenizer, with the 256 bytes, the merged tokens and the special tokens. */
    public static final class Result {
        private final int mergeableTokens;
        private final int merges;
        private final Tokenizer tokenizer;

        private Result(List<byte[]> tokens, List<int[]> merges, String pattern, List<String> specialTokens) {
            this.mergeableTokens = tokens.size();
            this.merges = merges.size();
            Vocabulary.Builder vocabulary = new Vocabulary.Builder();
            for (int id = 0; id < tokens.size(); id++) {
                vocabulary.add(id, tokens.get(id), true);
            }
            List<AddedTokens.Token> specials = new ArrayList<>();
            for (int i = 0; i < specialTokens.size(); i++) {
                int id = tokens.size() + i;
                vocabulary.add(id, specialTokens.get(i).getBytes(StandardCharsets.UTF_8), false);
                specials.add(AddedTokens.Token.special(id, specialTokens.get(i)));
            }
            int[] left = merges.stream().mapToInt(m -> m[0]).toArray();
            int[] right = merges.stream().mapToInt(m -> m[1]).toArray();
            int[] result = merges.stream().mapToInt(m -> m[2]).toArray();
            PreTokenizer pre = new PreTokenizer(List.of(new PreTokenizer.Split(pattern, false,
                    PreTokenizer.Behavior.ISOLATED, false)), true, false, false);
            this.tokenizer = new Tokenizer("bpe-" + (tokens.size() + specialTokens.size()),
                    BytePairEncoder.merges(vocabulary.build(), left, right, result, false), pre, TextNormalizer.NONE,
                    new AddedTokens(specials));
        }

        /** Tokens learned, bytes and merges, special tokens excluded. */
        public int mergeableTokens() {
            return mergeableTokens;
        }

        public int merges() {
            return merges;
        }

        /** The tokenizer.json text. */
        public String toJson() {
            return tokenizer.toTokenizerJson();
        }

        public void writeJson(Path file) {
            try {
                Files.writeString(file, toJson());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }

        /** The trained tokenizer (the same as loading {@link #toJson()}). */
        public Tokenizer tokenizer() {
            return tokenizer;
        }
    }

    public static final class Builder {
        private int vocabSize = 8192;
        private String pattern = GPT2_PATTERN;
        private List<String> specialTokens = List.of("<|endoftext|>");
        private int minFrequency = 2;
        private int maxPieces = 2_000_000;

        private Builder() {
        }

        /** Tokens in all: 256 bytes, the merges, the special tokens (fewer when the corpus runs out of pairs). */
        public Builder vocabSize(int vocabSize) {
            this.vocabSize = vocabSize;
            return this;
        }

        /** The pre-tokenization regex ({@link #GPT2_PATTERN} by default, or {@link #CL100K_PATTERN}, or any). */
        public Builder pattern(String pattern) {
            this.pattern = Objects.requireNonNull(pattern);
            return this;
        }

        public Builder specialTokens(List<String> specialTokens) {
            this.specialTokens = List.copyOf(specialTokens);
            return this;
        }

        /** Pairs seen fewer times are never merged (default 2). */
        public Builder minFrequency(int minFrequency) {
            this.minFrequency = minFrequency;
            return this;
        }

        /** The most distinct pieces kept while counting (default 2M); past it the rarest are dropped. */
        public Builder maxPieces(int maxPieces) {
            this.maxPieces = maxPieces;
            return this;
        }

        public BpeTrainer build() {
            return new BpeTrainer(this);
        }
    }
}
