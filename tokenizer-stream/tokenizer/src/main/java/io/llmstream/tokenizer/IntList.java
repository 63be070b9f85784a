package io.llmstream.tokenizer;

import java.util.Arrays;

/** A growable int array, reused across calls on one thread (see {@link Scratch}). */
final class IntList {
    private int[] data;
    private int size;

    IntList(int capacity) {
        data = new int[capacity];
    }

    void add(int value) {
        if (size == data.length) {
            data = Arrays.copyOf(data, size * 2);
        }
        data[size++] = value;
    }

    int get(int index) {
        return data[index];
    }

    int size() {
        return size;
    }

    void clear() {
        size = 0;
    }

    int[] toArray() {
        return Arrays.copyOf(data, size);
    }

    int[] toArray(int from, int to) {
        return Arrays.copyOfRange(data, from, to);
    }

    int capacity() {
        return data.length;
    }
}
