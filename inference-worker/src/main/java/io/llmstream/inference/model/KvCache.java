package io.llmstream.inference.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The key/value cache of one batch in direct, native-order buffers laid out as the graph wants them,
 * {@code [rows, kvHeads, slots, headDim]} per layer for keys and for values, in the graph's own {@link Precision}.
 *
 * <p>Each tensor has two buffers: the current one holds the past; a forward pass has ONNX Runtime write the present
 * (past plus the new tokens) straight into the spare one (a pinned output), and {@link #advance} swaps them. Nothing is
 * copied on the Java side between decode steps and the buffers only grow, so a long-running batch allocates nothing.
 *
 * <p>Row {@code r}'s attention mask is implied by {@link #real}: its last {@code real[r]} slots hold tokens and the
 * slots before are padding. Left padding keeps that shape through prefill and decoding, and {@link #gather} (rows
 * leaving or joining) rebuilds the cache right-aligned at the longest row, so no padding survives that it does not need.
 *
 * <p>Not thread-safe.
 */
public final class KvCache {

    private final Precision precision;
    /** Bytes of one layer's keys (or values) for one row and one slot, and of one head's part of that. */
    private final int slotBytes;
    private final int headBytes;
    private final int kvHeads;
    /** [layer * 2 + (0 key | 1 value)] */
    private final ByteBuffer[] current;
    private final ByteBuffer[] spare;
    private int rows;
    private int slots;
    private int[] real = new int[8];

    KvCache(ModelSignature signature) {
        this.precision = signature.cachePrecision();
        this.kvHeads = signature.kvHeads();
        this.headBytes = signature.headDim() * precision.bytes;
        this.slotBytes = kvHeads * headBytes;
        this.current = new ByteBuffer[signature.layers() * 2];
        this.spare = new ByteBuffer[signature.layers() * 2];
        for (int i = 0; i < current.length; i++) {
            current[i] = bytes(0);
            spare[i] = bytes(0);
        }
    }

    /** Empties the cache for a batch of {@code rows} rows that have seen nothing yet. */
    public void reset(int rows) {
        this.rows = rows;
        this.slots = 0;
        ensureRows(rows);
        java.util.Arrays.fill(real, 0, rows, 0);
    }

    public int rows() {
        return rows;
    }

    /** Cache slots per row (the past length fed to the graph), padding included. */
    public int slots() {
        return slots;
    }

    /** Slots of row {@code r} that hold tokens (the rest, on the left, is padding). */
    int real(int row) {
        return real[row];
    }

    Precision precision() {
        return precision;
    }

    /** The past of tensor {@code t} (layer * 2 + 0 for keys, + 1 for values), sized for the current slots. */
    ByteBuffer past(int t) {
        return view(current[t], rows * slots * slotBytes);
    }

    /** Where the present of tensor {@code t} goes when {@code newSlots} slots result from the next forward pass. */
    ByteBuffer present(int t, int newSlots) {
        int size = rows * newSlots * slotBytes;
        if (spare[t].capacity() < size) {
            spare[t] = bytes(grow(spare[t].capacity(), size));
        }
        return view(spare[t], size);
    }

    /** After a forward pass: the presents become the past, {@code newSlots} long; row r gained {@code added[r]} tokens. */
    void advance(int newSlots, int[] added) {
        swap();
        slots = newSlots;
        for (int r = 0; r < rows; r++) {
            real[r] += added[r];
        }
    }

    /**
     * Rebuilds this cache from rows of caches (this one among them): new row {@code i} is row {@code rows[i]} of
     * {@code sources[i]}, keeping its real slots only, right-aligned at the longest; padding slots are zeroed (a masked
     * slot still meets a zero attention weight, and 0 * NaN would poison the row).
     */
    public void gather(KvCache[] sources, int[] sourceRows, int count) {
        int width = 0;
        for (int i = 0; i < count; i++) {
            width = Math.max(width, sources[i].real[sourceRows[i]]);
        }
        int size = count * width * slotBytes;
        for (int t = 0; t < current.length; t++) {
            if (spare[t].capacity() < size) {
                spare[t] = bytes(grow(spare[t].capacity(), size));
            }
            ByteBuffer dst = spare[t];
            for (int i = 0; i < count; i++) {
                KvCache src = sources[i];
                int row = sourceRows[i];
                int keep = src.real[row];
                int pad = width - keep;
                for (int h = 0; h < kvHeads; h++) {
                    int dstAt = ((i * kvHeads + h) * width) * headBytes;
                    zero(dst, dstAt, pad * headBytes);
                    int srcAt = ((row * kvHeads + h) * src.slots + (src.slots - keep)) * headBytes;
                    dst.put(dstAt + pad * headBytes, src.current[t], srcAt, keep * headBytes);
                }
            }
        }
        int[] kept = new int[count];
        for (int i = 0; i < count; i++) {
            kept[i] = sources[i].real[sourceRows[i]];
        }
        swap();
        rows = count;
        slots = width;
        ensureRows(count);
        System.arraycopy(kept, 0, real, 0, count);
    }

    /** Padding share of the cache: slots that are masked over all slots. */
    public long paddingSlots() {
        long pad = 0;
        for (int r = 0; r < rows; r++) {
            pad += slots - real[r];
        }
        return pad;
    }

    private void swap() {
        for (int t = 0; t < current.length; t++) {
            ByteBuffer c = current[t];
            current[t] = spare[t];
            spare[t] = c;
        }
    }

    private void ensureRows(int n) {
        if (real.length < n) {
            real = java.util.Arrays.copyOf(real, Math.max(n, real.length * 2));
        }
    }

    /** Zero bits are 0.0 in every precision; copied in blocks, as a byte-at-a-time loop was most of a regroup. */
    private static final byte[] ZEROS = new byte[4096];

    private static void zero(ByteBuffer buffer, int at, int count) {
        for (int done = 0; done < count; done += ZEROS.length) {
            buffer.put(at + done, ZEROS, 0, Math.min(ZEROS.length, count - done));
        }
    }

    static FloatBuffer view(FloatBuffer buffer, int floats) {
        return buffer.duplicate().position(0).limit(floats);
    }

    static ByteBuffer view(ByteBuffer buffer, int size) {
        return buffer.duplicate().order(ByteOrder.nativeOrder()).position(0).limit(size);
    }

    static FloatBuffer allocate(int floats) {
        return bytes(floats * Float.BYTES).asFloatBuffer();
    }

    static ByteBuffer bytes(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
    }

    /** Capacity growth by half again, so a cache growing one slot per step reallocates rarely. */
    static int grow(int capacity, int needed) {
        return (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, capacity + (long) capacity / 2));
    }
}
