package io.llmstream.tokenizer;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Per-thread working memory of the encoder, so that encoding allocates nothing per piece or token in the steady state
 * (only the returned array). It holds buffers only: what one call is doing lives in {@link Encoder.Call}. Buffers grow on demand; ones grown past {@link #RETAIN_LIMIT} elements by a huge input are
 * dropped when the call ends rather than kept alive by the thread.
 */
final class Scratch {
    private static final int RETAIN_LIMIT = 1 << 20;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    char[] text = new char[1024];
    /** A copy of one piece with a leading space (ByteLevel add_prefix_space followed by its own regex). */
    char[] aux = new char[256];
    byte[] bytes = new byte[256];
    Pieces pieces = new Pieces();
    Pieces spare = new Pieces();
    Pieces matches = new Pieces();
    Pieces parts = new Pieces();
    IntList out = new IntList(1024);
    final PieceLog log = new PieceLog();
    int[] symbols = new int[256];
    int[] ranks = new int[256];
    int[] starts = new int[256];
    /** The long-piece merge's nodes (see {@link BytePairEncoder}). */
    private long[] nodes = new long[0];
    final RankGroups groups = new RankGroups();
    /** The long-piece merge's sweep buffer (an array in a box, so it can grow). */
    final int[][] sweep = {new int[256]};
    /** Where the long-piece merge leaves the value of its early loads, which must not look unused. */
    long sink;
    /** A match's {start, end}, as found by {@link AddedTokens#find}. */
    final int[] bounds = new int[2];
    private final CharArraySequence sequence = new CharArraySequence();
    private final Map<Pattern, Matcher> matchers = new IdentityHashMap<>();
    private boolean inUse;

    /** This thread's scratch, or a fresh one when it is already in use further up the stack. */
    static Scratch acquire() {
        Scratch scratch = LOCAL.get();
        if (scratch.inUse) {
            return new Scratch();
        }
        scratch.inUse = true;
        return scratch;
    }

    void release() {
        inUse = false;
        if (matchers.size() > 64) {
            matchers.clear();
        }
        if (text.length > RETAIN_LIMIT) {
            text = new char[1024];
        }
        if (aux.length > RETAIN_LIMIT) {
            aux = new char[256];
        }
        if (bytes.length > RETAIN_LIMIT) {
            bytes = new byte[256];
        }
        if (symbols.length > RETAIN_LIMIT) {
            symbols = new int[256];
            ranks = new int[256];
            starts = new int[256];
        }
        groups.trim(RETAIN_LIMIT);
        if (sweep[0].length > RETAIN_LIMIT) {
            sweep[0] = new int[256];
        }
        if (nodes.length > RETAIN_LIMIT) {
            nodes = new long[0];
        }
        if (out.capacity() > RETAIN_LIMIT) {
            out = new IntList(1024);
        }
        log.trim(RETAIN_LIMIT);
        if (pieces.capacity() > RETAIN_LIMIT || spare.capacity() > RETAIN_LIMIT || matches.capacity() > RETAIN_LIMIT
                || parts.capacity() > RETAIN_LIMIT) {
            pieces = new Pieces();
            spare = new Pieces();
            matches = new Pieces();
            parts = new Pieces();
        }
    }

    char[] text(String s) {
        int n = s.length();
        if (text.length < n) {
            text = new char[Math.max(n, text.length * 2)];
        }
        s.getChars(0, n, text, 0);
        return text;
    }

    /** A matcher of {@code pattern} over {@code s[0, length)}, reused across calls on this thread. */
    Matcher matcher(Pattern pattern, char[] s, int length) {
        sequence.wrap(s, length);
        Matcher m = matchers.get(pattern);
        if (m == null) {
            m = pattern.matcher(sequence);
            matchers.put(pattern, m);
        } else {
            m.reset(sequence);
        }
        return m;
    }

    char[] aux(int capacity) {
        if (aux.length < capacity) {
            aux = new char[Math.max(capacity, aux.length * 2)];
        }
        return aux;
    }

    byte[] bytes(int capacity) {
        if (bytes.length < capacity) {
            bytes = new byte[Math.max(capacity, bytes.length * 2)];
        }
        return bytes;
    }

    /** Ensures the short-piece merge arrays hold {@code n} symbols. */
    void ensureSymbols(int n) {
        if (symbols.length < n) {
            int size = Math.max(n, symbols.length * 2);
            symbols = new int[size];
            ranks = new int[size];
            starts = new int[size];
        }
    }

    long[] nodes(int size) {
        if (nodes.length < size) {
            nodes = new long[Math.max(size, nodes.length * 2)];
        }
        return nodes;
    }

    /** A CharSequence view of a char array, so java.util.regex can run on the text buffer without copying. */
    static final class CharArraySequence implements CharSequence {
        private char[] chars;
        private int length;

        CharArraySequence wrap(char[] chars, int length) {
            this.chars = chars;
            this.length = length;
            return this;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            return chars[index];
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new String(chars, start, end - start);
        }

        @Override
        public String toString() {
            return new String(chars, 0, length);
        }
    }
}
