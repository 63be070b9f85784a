package io.llmstream.tokenizer;

import java.util.Arrays;

/**
 * Every token's bytes by id (ordinary, special and added tokens alike, for decoding) and the bytes-to-id index of the
 * ordinary ("mergeable") tokens, which BPE may produce. Ids may have gaps; an id without bytes is unknown.
 */
final class Vocabulary {
    private final byte[] blob;
    private final int[] offsets;
    private final boolean[] mergeable;
    private final ByteSequenceMap index;
    private final int maxMergeableLength;
    private final int mergeableCount;

    private Vocabulary(byte[][] byId, boolean[] mergeable, int size) {
        int total = 0;
        for (int id = 0; id < size; id++) {
            total += byId[id] == null ? 0 : byId[id].length;
        }
        blob = new byte[total + ByteSequenceMap.SLACK]; // room to compare the last token a word at a time
        offsets = new int[size + 1];
        this.mergeable = Arrays.copyOf(mergeable, size);
        int at = 0;
        int count = 0;
        int maxLength = 0;
        for (int id = 0; id < size; id++) {
            offsets[id] = at;
            if (byId[id] != null) {
                System.arraycopy(byId[id], 0, blob, at, byId[id].length);
                at += byId[id].length;
                if (mergeable[id]) {
                    count++;
                    maxLength = Math.max(maxLength, byId[id].length);
                }
            }
        }
        offsets[size] = at;
        int[] members = new int[count];
        for (int id = 0, k = 0; id < size; id++) {
            if (this.mergeable[id] && byId[id] != null) {
                members[k++] = id;
            }
        }
        index = new ByteSequenceMap(blob, offsets, members);
        maxMergeableLength = maxLength;
        mergeableCount = count;
    }

    /** One past the largest id. */
    int size() {
        return offsets.length - 1;
    }

    int mergeableCount() {
        return mergeableCount;
    }

    int maxMergeableLength() {
        return maxMergeableLength;
    }

    boolean contains(int id) {
        return id >= 0 && id < size() && offsets[id + 1] > offsets[id];
    }

    boolean isMergeable(int id) {
        return contains(id) && mergeable[id];
    }

    int length(int id) {
        return offsets[id + 1] - offsets[id];
    }

    byte[] bytes(int id) {
        return Arrays.copyOfRange(blob, offsets[id], offsets[id + 1]);
    }

    /** Copies the bytes of {@code id} to {@code dst[at..]}; returns the position after them. */
    int copy(int id, byte[] dst, int at) {
        int start = offsets[id];
        int length = offsets[id + 1] - start;
        System.arraycopy(blob, start, dst, at, length);
        return at + length;
    }

    /** The id of the mergeable token with bytes {@code key[from, from + length)}, or -1. */
    int find(byte[] key, int from, int length) {
        return index.get(key, from, length);
    }

    /** Feeds every token (id order, bytes and kind) to a digest, for fingerprints. */
    void digest(java.security.MessageDigest digest) {
        java.nio.ByteBuffer meta = java.nio.ByteBuffer.allocate(5 * offsets.length);
        for (int id = 0; id < size(); id++) {
            meta.putInt(offsets[id + 1] - offsets[id]).put((byte) (mergeable[id] ? 1 : 0));
        }
        digest.update(meta.array(), 0, meta.position());
        digest.update(blob, 0, offsets[size()]);
    }

    static final class Builder {
        private byte[][] byId = new byte[1024][];
        private boolean[] mergeable = new boolean[1024];
        private int size;

        /** Adds a token; {@code mergeable} is false for special and added tokens, which BPE never produces. */
        Builder add(int id, byte[] bytes, boolean isMergeable) {
            if (id < 0 || id > PairMap.MAX_ID) {
                throw new IllegalArgumentException("token id out of range: " + id);
            }
            if (bytes.length == 0) {
                throw new IllegalArgumentException("token " + id + " is empty");
            }
            if (id >= byId.length) {
                int capacity = Math.max(id + 1, byId.length * 2);
                byId = Arrays.copyOf(byId, capacity);
                mergeable = Arrays.copyOf(mergeable, capacity);
            }
            if (byId[id] != null) {
                throw new IllegalArgumentException("token id " + id + " is defined twice");
            }
            byId[id] = bytes;
            mergeable[id] = isMergeable;
            size = Math.max(size, id + 1);
            return this;
        }

        boolean contains(int id) {
            return id >= 0 && id < size && byId[id] != null;
        }

        Vocabulary build() {
            return new Vocabulary(byId, mergeable, size);
        }
    }
}
