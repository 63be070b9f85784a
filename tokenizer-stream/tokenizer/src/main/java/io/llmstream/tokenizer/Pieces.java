package io.llmstream.tokenizer;

import java.util.Arrays;

/**
 * The pieces a pre-tokenizer cut a text into: {@code [start, end)} char ranges of one buffer, each with a flag. The flag
 * means "prepend a space" (ByteLevel's add_prefix_space) on final pieces, and "is a match" inside a Split stage.
 */
final class Pieces {
    private int[] data = new int[3 * 64];
    private int size;

    void clear() {
        size = 0;
    }

    void add(int start, int end, boolean flag) {
        int at = size * 3;
        if (at + 3 > data.length) {
            data = Arrays.copyOf(data, data.length * 2);
        }
        data[at] = start;
        data[at + 1] = end;
        data[at + 2] = flag ? 1 : 0;
        size++;
    }

    int size() {
        return size;
    }

    int start(int i) {
        return data[3 * i];
    }

    int end(int i) {
        return data[3 * i + 1];
    }

    boolean flag(int i) {
        return data[3 * i + 2] != 0;
    }

    /** Moves the end of the last piece (used when merging a piece into the previous one). */
    void setEnd(int i, int end) {
        data[3 * i + 1] = end;
    }

    void setStart(int i, int start) {
        data[3 * i] = start;
    }

    /** Reverses the order of pieces {@code [from, size)}. */
    void reverseFrom(int from) {
        for (int i = from, j = size - 1; i < j; i++, j--) {
            for (int k = 0; k < 3; k++) {
                int t = data[3 * i + k];
                data[3 * i + k] = data[3 * j + k];
                data[3 * j + k] = t;
            }
        }
    }

    /** Drops the empty pieces among {@code [from, size)}, keeping the order. */
    void dropEmptyFrom(int from) {
        int kept = from;
        for (int i = from; i < size; i++) {
            if (data[3 * i] < data[3 * i + 1]) {
                System.arraycopy(data, 3 * i, data, 3 * kept, 3);
                kept++;
            }
        }
        size = kept;
    }

    int capacity() {
        return data.length / 3;
    }
}
