package io.llmstream.tokenizer;

import java.util.List;

/**
 * Cuts a text segment into the pieces that BPE encodes independently: a chain of Split stages (HuggingFace semantics;
 * tiktoken's pattern is one stage that keeps only the matches) and, for HuggingFace files, the ByteLevel pre-tokenizer
 * last: its add_prefix_space and its own GPT-2 split. Byte-level mapping itself needs no stage: BPE works on bytes.
 */
final class PreTokenizer {
    /** HuggingFace's SplitDelimiterBehavior: what becomes of the matches ("delimiters") and the text between them. */
    enum Behavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS
    }

    /** One Split: {@code pattern} is the regex or literal as written, for fingerprints. */
    record Split(String pattern, boolean literal, Behavior behavior, boolean invert) {
        Split {
            if (pattern.isEmpty()) {
                throw new IllegalArgumentException("empty Split pattern");
            }
        }
    }

    private static final Splitter GPT2 = Splitter.regex(Splitter.R50K);

    private final List<Split> splits;
    private final Splitter[] splitters;
    private final boolean byteLevel;
    private final boolean addPrefixSpace;
    private final boolean byteLevelRegex;

    /**
     * @param byteLevel      whether a ByteLevel pre-tokenizer ends the chain (HuggingFace), with its two options
     */
    PreTokenizer(List<Split> splits, boolean byteLevel, boolean addPrefixSpace, boolean byteLevelRegex) {
        this.splits = List.copyOf(splits);
        this.splitters = new Splitter[splits.size()];
        for (int i = 0; i < splitters.length; i++) {
            Split split = splits.get(i);
            splitters[i] = split.literal() ? Splitter.literal(split.pattern()) : Splitter.regex(split.pattern());
        }
        this.byteLevel = byteLevel;
        this.addPrefixSpace = byteLevel && addPrefixSpace;
        this.byteLevelRegex = byteLevel && byteLevelRegex;
    }

    /** No pre-tokenization: the text is one piece (SentencePiece-style BPE). */
    static final PreTokenizer NONE = new PreTokenizer(List.of(), false, false, false);

    /** tiktoken: the pieces are the pattern's matches, text between matches is dropped. */
    static PreTokenizer tiktoken(String pattern) {
        return new PreTokenizer(List.of(new Split(pattern, false, Behavior.REMOVED, true)), false, false, false);
    }

    List<Split> splits() {
        return splits;
    }

    /**
     * The scanner when the whole pre-tokenization is one known pattern whose matches are the pieces (tiktoken's
     * encodings), so the encoder can pull pieces one at a time; else null.
     */
    Scanner singleScanner() {
        if (splitters.length != 1 || addPrefixSpace || byteLevelRegex || !(splitters[0] instanceof Scanner scanner)) {
            return null;
        }
        Split split = splits.get(0);
        boolean matchesOnly = split.behavior() == Behavior.ISOLATED && !split.invert()
                || split.behavior() == Behavior.REMOVED && split.invert();
        return matchesOnly ? scanner : null;
    }

    /** Whether a ByteLevel pre-tokenizer ends the chain (tokenizer.json), and its options. */
    boolean byteLevel() {
        return byteLevel;
    }

    boolean addPrefixSpace() {
        return addPrefixSpace;
    }

    boolean byteLevelRegex() {
        return byteLevelRegex;
    }

    /** True when some stage runs java.util.regex rather than a scanner. */
    boolean usesRegex() {
        for (Splitter splitter : splitters) {
            if (splitter.usesRegex()) {
                return true;
            }
        }
        return false;
    }

    /** A canonical description, part of the tokenizer's fingerprint. */
    String describe() {
        StringBuilder b = new StringBuilder();
        for (Split split : splits) {
            b.append(split.literal() ? "split-string:" : "split-regex:").append(split.pattern()).append('\u0000')
                    .append(split.behavior()).append(split.invert() ? ",invert;" : ";");
        }
        if (byteLevel) {
            b.append("bytelevel:prefix=").append(addPrefixSpace).append(",regex=").append(byteLevelRegex);
        }
        return b.toString();
    }

    /**
     * Cuts {@code s[from, to)}; the pieces are left in {@code scratch.pieces}, flagged when a space is to be prepended.
     */
    void split(char[] s, int from, int to, Scratch scratch) {
        Pieces out = scratch.pieces;
        out.clear();
        if (splitters.length == 0) {
            out.add(from, to, false);
        } else {
            apply(0, s, from, to, out, scratch);
            for (int stage = 1; stage < splitters.length; stage++) {
                Pieces in = out;
                out = scratch.spare;
                out.clear();
                for (int i = 0; i < in.size(); i++) {
                    apply(stage, s, in.start(i), in.end(i), out, scratch);
                }
                scratch.spare = in;
                scratch.pieces = out;
            }
        }
        if (addPrefixSpace || byteLevelRegex) {
            Pieces in = out;
            out = scratch.spare;
            out.clear();
            for (int i = 0; i < in.size(); i++) {
                byteLevel(s, in.start(i), in.end(i), out, scratch);
            }
            scratch.spare = in;
            scratch.pieces = out;
        }
    }

    private void apply(int stage, char[] s, int from, int to, Pieces out, Scratch scratch) {
        Split split = splits.get(stage);
        Splitter splitter = splitters[stage];
        boolean matchesOnly = split.behavior() == Behavior.ISOLATED && !split.invert()
                || split.behavior() == Behavior.REMOVED && split.invert();
        if (matchesOnly && splitter.coversAll()) {
            splitter.matches(s, from, to, out, scratch);
            return;
        }
        Pieces matches = scratch.matches;
        matches.clear();
        splitter.matches(s, from, to, matches, scratch);
        // the text as alternating parts: gaps (flag false) and matches (flag true), inverted if asked
        Pieces parts = scratch.parts;
        parts.clear();
        int at = from;
        for (int i = 0; i < matches.size(); i++) {
            if (matches.start(i) > at) {
                parts.add(at, matches.start(i), split.invert());
            }
            parts.add(matches.start(i), matches.end(i), !split.invert());
            at = matches.end(i);
        }
        if (at < to) {
            parts.add(at, to, split.invert());
        }
        int first = out.size();
        switch (split.behavior()) {
            case REMOVED -> {
                for (int i = 0; i < parts.size(); i++) {
                    if (!parts.flag(i)) {
                        out.add(parts.start(i), parts.end(i), false);
                    }
                }
            }
            case ISOLATED -> {
                for (int i = 0; i < parts.size(); i++) {
                    out.add(parts.start(i), parts.end(i), false);
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean previousMatch = false;
                for (int i = 0; i < parts.size(); i++) {
                    if (parts.flag(i) && !previousMatch && out.size() > first) {
                        out.setEnd(out.size() - 1, parts.end(i));
                    } else {
                        out.add(parts.start(i), parts.end(i), false);
                    }
                    previousMatch = parts.flag(i);
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean nextMatch = false;
                for (int i = parts.size() - 1; i >= 0; i--) {
                    if (parts.flag(i) && !nextMatch && out.size() > first) {
                        out.setStart(out.size() - 1, parts.start(i));
                    } else {
                        out.add(parts.start(i), parts.end(i), false);
                    }
                    nextMatch = parts.flag(i);
                }
                out.reverseFrom(first);
            }
            case CONTIGUOUS -> {
                boolean previousMatch = false;
                for (int i = 0; i < parts.size(); i++) {
                    if (parts.flag(i) == previousMatch && out.size() > first) {
                        out.setEnd(out.size() - 1, parts.end(i));
                    } else {
                        out.add(parts.start(i), parts.end(i), false);
                    }
                    previousMatch = parts.flag(i);
                }
            }
        }
        out.dropEmptyFrom(first);
    }

    /** ByteLevel: a space before every piece that does not start with one, then (use_regex) GPT-2's split. */
    private void byteLevel(char[] s, int from, int to, Pieces out, Scratch scratch) {
        boolean prefix = addPrefixSpace && s[from] != ' ';
        if (!byteLevelRegex) {
            out.add(from, to, prefix);
            return;
        }
        if (!prefix) {
            GPT2.matches(s, from, to, out, scratch);
            return;
        }
        // the prepended space takes part in the split: scan a copy, then map back, the space flagging its piece
        int length = to - from + 1;
        char[] copy = scratch.aux(length);
        copy[0] = ' ';
        System.arraycopy(s, from, copy, 1, length - 1);
        Pieces matches = scratch.matches;
        matches.clear();
        GPT2.matches(copy, 0, length, matches, scratch);
        for (int i = 0; i < matches.size(); i++) {
            int start = matches.start(i);
            out.add(start == 0 ? from : from + start - 1, from + matches.end(i) - 1, start == 0);
        }
    }
}
