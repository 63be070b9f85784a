package io.llmstream.tokenizer;

/**
 * Truncation's bookkeeping: for each encoded piece, the number of tokens once it is encoded, its char range in the
 * original text and whether offsets inside it are exact, so that a token boundary maps back to a char offset.
 */
final class PieceLog {
    private static final int WIDTH = 4;
    private static final int EXACT = 1;
    private static final int PREFIX_SPACE = 2;

    private IntList entries = new IntList(64);

    void clear() {
        entries.clear();
    }

    /** Records a piece that ends the output at {@code tokens} tokens and covers {@code [start, end)} of the text. */
    void add(int tokens, int start, int end, boolean exact, boolean prefixSpace) {
        entries.add(tokens);
        entries.add(start);
        entries.add(end);
        entries.add((exact ? EXACT : 0) | (prefixSpace ? PREFIX_SPACE : 0));
    }

    /**
     * The char offset of the token boundary before token {@code cut} of {@code tokens}: the end of the text covered
     * by tokens {@code [0, cut)} or, {@code keepRight}, the start of the text covered by tokens {@code [cut, ...)}.
     */
    int cutOffset(IntList tokens, Vocabulary vocabulary, char[] text, int cut, boolean keepRight) {
        int lo = 0;
        int hi = entries.size() / WIDTH - 1;
        while (lo < hi) { // the first piece whose tokens end after the cut
            int mid = (lo + hi) >>> 1;
            if (entries.get(mid * WIDTH) > cut) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        int piece = lo * WIDTH;
        int firstToken = lo == 0 ? 0 : entries.get(piece - WIDTH);
        int start = entries.get(piece + 1);
        int end = entries.get(piece + 2);
        int flags = entries.get(piece + 3);
        if (cut == firstToken) {
            return start;
        }
        if ((flags & EXACT) == 0) {
            return keepRight ? end : start;
        }
        int bytes = 0;
        for (int t = firstToken; t < cut; t++) {
            bytes += vocabulary.length(tokens.get(t));
        }
        if ((flags & PREFIX_SPACE) != 0) {
            bytes--;
        }
        // walk the piece's chars up to the byte position, a character cut in two counting as not covered
        int i = start;
        int consumed = 0;
        while (i < end) {
            int width = Utf8.codePointBytes(text, i, end);
            if (keepRight ? consumed >= bytes : consumed + width > bytes) {
                break;
            }
            consumed += width;
            i += CharClass.width(text, i, end);
        }
        return i;
    }

    /** Drops a buffer grown past {@code limit} entries by a huge input. */
    void trim(int limit) {
        if (entries.capacity() > limit) {
            entries = new IntList(64);
        }
    }
}
