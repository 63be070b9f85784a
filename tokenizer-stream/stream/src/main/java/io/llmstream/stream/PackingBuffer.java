package io.llmstream.stream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The ids waiting to be packed into windows on one side (TRAIN or VALIDATION) of one partition, with the document each
 * id came from. Lives in a state store between records, so it has a compact byte form; the changelog makes it survive
 * restarts.
 */
final class PackingBuffer {
    private int[] ids;
    private int size;
    /** Document ids and the buffer index where each document's ids start, in order. */
    private final List<String> docIds;
    private final List<Integer> docStarts;

    PackingBuffer() {
        this(new int[64], 0, new ArrayList<>(), new ArrayList<>());
    }

    private PackingBuffer(int[] ids, int size, List<String> docIds, List<Integer> docStarts) {
        this.ids = ids;
        this.size = size;
        this.docIds = docIds;
        this.docStarts = docStarts;
    }

    int size() {
        return size;
    }

    int[] ids() {
        return ids;
    }

    /** Appends a document's ids followed by the separator (EOS), so documents never run together. */
    void append(String documentId, int[] documentIds, int separator) {
        ensure(size + documentIds.length + 1);
        docIds.add(documentId);
        docStarts.add(size);
        System.arraycopy(documentIds, 0, ids, size, documentIds.length);
        size += documentIds.length;
        ids[size++] = separator;
    }

    /** The documents whose ids fall in [from, to). */
    List<String> documentsIn(int from, int to) {
        Set<String> out = new LinkedHashSet<>();
        for (int d = 0; d < docIds.size(); d++) {
            int start = docStarts.get(d);
            int end = d + 1 < docStarts.size() ? docStarts.get(d + 1) : size;
            if (start < to && end > from) {
                out.add(docIds.get(d));
            }
        }
        return new ArrayList<>(out);
    }

    /** Drops the first {@code n} ids, and the documents that no longer have any id left. */
    void consume(int n) {
        if (n == 0) {
            return;
        }
        System.arraycopy(ids, n, ids, 0, size - n);
        size -= n;
        List<String> keptIds = new ArrayList<>();
        List<Integer> keptStarts = new ArrayList<>();
        for (int d = 0; d < docIds.size(); d++) {
            int end = d + 1 < docStarts.size() ? docStarts.get(d + 1) : size + n;
            if (end > n) {
                keptIds.add(docIds.get(d));
                keptStarts.add(Math.max(0, docStarts.get(d) - n));
            }
        }
        docIds.clear();
        docIds.addAll(keptIds);
        docStarts.clear();
        docStarts.addAll(keptStarts);
    }

    private void ensure(int capacity) {
        if (capacity > ids.length) {
            ids = Arrays.copyOf(ids, Math.max(capacity, ids.length * 2));
        }
    }

    byte[] toBytes() {
        byte[][] names = new byte[docIds.size()][];
        int bytes = 8 + 4 * size;
        for (int d = 0; d < names.length; d++) {
            names[d] = docIds.get(d).getBytes(StandardCharsets.UTF_8);
            bytes += 8 + names[d].length;
        }
        ByteBuffer out = ByteBuffer.allocate(bytes);
        out.putInt(size);
        for (int i = 0; i < size; i++) {
            out.putInt(ids[i]);
        }
        out.putInt(names.length);
        for (int d = 0; d < names.length; d++) {
            out.putInt(docStarts.get(d));
            out.putInt(names[d].length);
            out.put(names[d]);
        }
        return out.array();
    }

    static PackingBuffer fromBytes(byte[] bytes) {
        if (bytes == null) {
            return new PackingBuffer();
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int size = in.getInt();
        int[] ids = new int[Math.max(64, size)];
        for (int i = 0; i < size; i++) {
            ids[i] = in.getInt();
        }
        int docs = in.getInt();
        List<String> docIds = new ArrayList<>(docs);
        List<Integer> docStarts = new ArrayList<>(docs);
        for (int d = 0; d < docs; d++) {
            docStarts.add(in.getInt());
            byte[] name = new byte[in.getInt()];
            in.get(name);
            docIds.add(new String(name, StandardCharsets.UTF_8));
        }
        return new PackingBuffer(ids, size, docIds, docStarts);
    }
}
