package io.llmstream.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Tokens matched atomically in the text before pre-tokenization: tiktoken's special tokens, and HuggingFace's added
 * tokens (special or not) with their flags. Matching is leftmost-longest, as HuggingFace's Aho-Corasick search; the
 * scan looks only at chars that start some token.
 */
final class AddedTokens {
    /** One token; the flags are HuggingFace's (all false for tiktoken's special tokens). */
    record Token(int id, String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                 boolean normalized) {
        static Token special(int id, String content) {
            return new Token(id, content, true, false, false, false, false);
        }
    }

    static final AddedTokens EMPTY = new AddedTokens(List.of());

    private final Token[] tokens;
    /** What each token matches: its content, normalized for tokens matched on normalized text (as HuggingFace). */
    private final String[] texts;
    /** A bit per char that starts some token, so the scan skips other chars with one load. */
    private final long[] firstChars = new long[0x10000 / 64];
    /** Token indexes by first char, longest first. */
    private final Map<Character, int[]> byFirstChar = new HashMap<>();
    private final Masks none;
    private final Masks all;
    private final Masks disallowAll;

    AddedTokens(List<Token> tokens) {
        this(tokens, TextNormalizer.NONE);
    }

    AddedTokens(List<Token> tokens, TextNormalizer normalizer) {
        this.tokens = tokens.toArray(Token[]::new);
        this.texts = new String[this.tokens.length];
        Map<Character, List<Integer>> lists = new HashMap<>();
        for (int i = 0; i < this.tokens.length; i++) {
            String content = this.tokens[i].normalized() ? normalizer.apply(this.tokens[i].content())
                    : this.tokens[i].content();
            texts[i] = content;
            if (content.isEmpty()) {
                throw new IllegalArgumentException("empty added token " + this.tokens[i].id());
            }
            char first = content.charAt(0);
            firstChars[first >>> 6] |= 1L << first;
            lists.computeIfAbsent(first, c -> new ArrayList<>()).add(i);
        }
        lists.forEach((first, indexes) -> {
            indexes.sort(Comparator.comparingInt((Integer k) -> -texts[k].length()));
            byFirstChar.put(first, indexes.stream().mapToInt(Integer::intValue).toArray());
        });
        none = computeMasks(SpecialTokens.none());
        all = computeMasks(SpecialTokens.all());
        disallowAll = computeMasks(SpecialTokens.disallowAll());
    }

    int size() {
        return tokens.length;
    }

    Token get(int index) {
        return tokens[index];
    }

    List<Token> list() {
        return List.of(tokens);
    }

    /**
     * What a policy means for these tokens: the tokens matched on the raw text, those matched on normalized text, and
     * the special tokens whose text is an error; each null when empty.
     */
    record Masks(boolean[] raw, boolean[] normalized, boolean[] rejected) {
    }

    /** The masks of a policy; precomputed for the shared policies, so that encoding them allocates nothing. */
    Masks masks(SpecialTokens policy) {
        if (policy == SpecialTokens.none()) {
            return none;
        }
        if (policy == SpecialTokens.all()) {
            return all;
        }
        return policy == SpecialTokens.disallowAll() ? disallowAll : computeMasks(policy);
    }

    private Masks computeMasks(SpecialTokens policy) {
        boolean[] raw = new boolean[tokens.length];
        boolean[] normalized = new boolean[tokens.length];
        boolean[] rejected = new boolean[tokens.length];
        boolean anyRaw = false;
        boolean anyNormalized = false;
        boolean anyRejected = false;
        for (int i = 0; i < tokens.length; i++) {
            Token t = tokens[i];
            boolean enabled = !t.special() || policy.allows(t.content());
            raw[i] = enabled && !t.normalized();
            normalized[i] = enabled && t.normalized();
            rejected[i] = t.special() && policy.rejects(t.content());
            anyRaw |= raw[i];
            anyNormalized |= normalized[i];
            anyRejected |= rejected[i];
        }
        return new Masks(anyRaw ? raw : null, anyNormalized ? normalized : null, anyRejected ? rejected : null);
    }

    /**
     * The leftmost-longest occurrence of an enabled token in {@code s[from, to)} of the segment {@code s[segment, to)},
     * as HuggingFace finds it: a single_word token needs non-word chars (or the segment's ends) around it, lstrip and
     * rstrip widen the match over whitespace (lstrip not before {@code floor}, the end of the previous match).
     * Returns the token index with {@code bounds} = {start, end}, or -1.
     */
    int find(char[] s, int segment, int from, int to, int floor, boolean[] enabled, int[] bounds) {
        int i = from;
        while (i < to) {
            char c = s[i];
            int match = -1;
            if ((firstChars[c >>> 6] & 1L << c) != 0) {
                for (int k : byFirstChar.get(c)) {
                    String content = texts[k];
                    if (enabled[k] && content.length() <= to - i && startsWith(s, i, content)) {
                        match = k;
                        break;
                    }
                }
            }
            if (match < 0) {
                i++;
                continue;
            }
            Token t = tokens[match];
            int start = i;
            int end = i + texts[match].length();
            if (t.singleWord() && (start > segment && isWordBefore(s, start, segment) || end < to && isWordAt(s, end, to))) {
                i = end; // like HuggingFace, the search resumes after the skipped match
                continue;
            }
            if (t.lstrip()) {
                while (start > floor && CharClass.isWhiteSpace(codePointBefore(s, start, floor))) {
                    start -= Character.charCount(codePointBefore(s, start, floor));
                }
            }
            if (t.rstrip()) {
                while (end < to && CharClass.isWhiteSpace(Character.codePointAt(s, end, to))) {
                    end += Character.charCount(Character.codePointAt(s, end, to));
                }
            }
            bounds[0] = start;
            bounds[1] = end;
            return match;
        }
        return -1;
    }

    private static boolean startsWith(char[] s, int at, String content) {
        for (int k = 0; k < content.length(); k++) {
            if (s[at + k] != content.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static int codePointBefore(char[] s, int index, int floor) {
        return Character.codePointBefore(s, index, floor);
    }

    private static boolean isWordBefore(char[] s, int index, int floor) {
        return CharClass.isWordChar(Character.codePointBefore(s, index, floor));
    }

    private static boolean isWordAt(char[] s, int index, int to) {
        return CharClass.isWordChar(Character.codePointAt(s, index, to));
    }

    @Override
    public String toString() {
        return Arrays.toString(tokens);
    }
}
