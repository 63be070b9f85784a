package io.llmstream.inference.model;

import io.llmstream.inference.graph.ServingGraph;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.llmstream.schemas.model.OnnxNames;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs forward passes of one model over a {@link KvCache}: writes input ids, attention mask and position ids into
 * direct buffers it keeps between calls, has ONNX Runtime write logits and presents into direct buffers too (pinned
 * outputs), and hands the logits back as a buffer view. Row {@code r} of a pass takes {@code tokens.count(r)} new tokens
 * left-padded to the pass's width; position ids continue each row's real tokens ({@code cumsum(mask) - 1}, 1 on padding).
 * A pass asks for the logits of its last {@code keep} columns; graphs with {@link ServingGraph#LOGITS_TO_KEEP} or
 * {@code num_logits_to_keep} compute only those, others compute all and the rest are ignored.
 *
 * <p>Not thread-safe: one thread drives a runner.
 */
public final class ModelRunner {

    /** Logits held at once, in floats (64 MiB): long prefills run in chunks of columns that fit. */
    public static final int LOGITS_BUDGET = 1 << 24;

    /** The new tokens of one forward pass. */
    public interface Tokens {
        /** New tokens of row {@code row}, at most the pass's width. */
        int count(int row);

        /** The {@code i}-th new token of row {@code row}. */
        int token(int row, int i);

        /** Row {@code r}'s new tokens are {@code rows[r]}. */
        static Tokens of(int[]... rows) {
            return new Tokens() {
                @Override
                public int count(int row) {
                    return rows[row].length;
                }

                @Override
                public int token(int row, int i) {
                    return rows[row][i];
                }
            };
        }
    }

    /** {@code use_cache_branch} of a merged decoder: the with-past branch on every pass, a zero-length past first. */
    private static final boolean[] CACHE_BRANCH = {true};

    private final DecoderModel model;
    private final int vocab;
    private final String[] pastNames;
    private final String[] presentNames;
    private final Map<String, OnnxTensor> inputs = new HashMap<>();
    private final Map<String, OnnxTensor> outputs = new HashMap<>();
    private final List<OnnxTensor> open = new ArrayList<>();
    // Shapes are rewritten for every pass (ONNX Runtime copies them when a tensor is made), not allocated.
    private final long[] tokenShape = new long[2];
    private final long[] maskShape = new long[2];
    private final long[] pastShape = new long[4];
    private final long[] presentShape = new long[4];
    private final long[] logitShape = new long[3];
    private final long[] keepShape;
    private final LongBuffer keepInput = longs(1);
    private LongBuffer ids = longs(0);
    private LongBuffer positions = longs(0);
    private LongBuffer mask = longs(0);
    private FloatBuffer logits = KvCache.allocate(0);
    /** What ONNX Runtime writes the logits into when the graph's are not float32; widened into {@link #logits}. */
    private ByteBuffer narrowLogits = KvCache.bytes(0);
    private int[] added = new int[8];
    /** Columns of the last pass and, of those, the last ones its logits hold. */
    private int passWidth;
    private int logitColumns;

    public ModelRunner(DecoderModel model) {
        this.model = model;
        ModelSignature s = model.signature();
        this.vocab = s.vocabSize();
        this.keepShape = new long[s.logitsToKeepRank()];
        Arrays.fill(keepShape, 1);
        this.pastNames = new String[s.layers() * 2];
        this.presentNames = new String[s.layers() * 2];
        for (int i = 0; i < s.layers(); i++) {
            pastNames[2 * i] = OnnxNames.pastKey(i);
            pastNames[2 * i + 1] = OnnxNames.pastValue(i);
            presentNames[2 * i] = OnnxNames.presentKey(i);
            presentNames[2 * i + 1] = OnnxNames.presentValue(i);
        }
    }

    public DecoderModel model() {
        return model;
    }

    public KvCache newCache() {
        return new KvCache(model.signature());
    }

    public int vocab() {
        return vocab;
    }

    /**
     * Columns per forward pass for a prefill of {@code rows} rows and {@code width} columns that needs the logits of
     * its last column: all of them when the graph computes that column's logits only, else as many as the logits
     * budget allows.
     */
    public int chunk(int rows, int width) {
        if (model.signature().keepsLogits()) {
            return width;
        }
        long perColumn = (long) rows * vocab;
        return (int) Math.max(1, Math.min(width, LOGITS_BUDGET / perColumn));
    }

    /**
     * Index of the logits of row {@code row}, column {@code column} of the last pass in the buffer {@link #forward}
     * returned; the column must be one of the {@code keep} it asked for.
     */
    public int logitsAt(int row, int column) {
        int first = passWidth - logitColumns;
        if (column < first || column >= passWidth) {
            throw new IllegalArgumentException("column " + column + " has no logits (kept " + first + ".." + passWidth + ")");
        }
        return (row * logitColumns + column - first) * vocab;
    }

    /**
     * One forward pass: every row of {@code cache} gets its new tokens; the cache grows by {@code width} slots.
     *
     * @param keep the last columns whose logits the caller reads, at least 1
     * @return logits {@code [rows, columns, vocab]} of at least the last {@code keep} columns (see {@link #logitsAt}),
     *         valid until the next pass
     */
    public FloatBuffer forward(KvCache cache, int width, Tokens tokens, int keep) throws OrtException {
        int rows = cache.rows();
        int past = cache.slots();
        int total = past + width;
        boolean keeps = model.signature().keepsLogits();
        int columns = keeps ? Math.max(1, Math.min(keep, width)) : width;
        ensureCapacity(rows, width, total, columns);
        for (int r = 0; r < rows; r++) {
            int n = tokens.count(r);
            int pad = width - n;
            int real = cache.real(r);
            int at = r * width;
            for (int c = 0; c < width; c++) {
                boolean isToken = c >= pad;
                ids.put(at + c, isToken ? tokens.token(r, c - pad) : 0);
                positions.put(at + c, isToken ? real + c - pad : 1);
            }
            int maskAt = r * total;
            int firstReal = past - real;
            for (int j = 0; j < total; j++) {
                boolean on = j < past ? j >= firstReal : j - past >= pad;
                mask.put(maskAt + j, on ? 1L : 0L);
            }
            added[r] = n;
        }
        var env = model.environment();
        ModelSignature s = model.signature();
        OnnxJavaType cacheType = cache.precision().type;
        tokenShape[0] = rows;
        tokenShape[1] = width;
        maskShape[0] = rows;
        maskShape[1] = total;
        pastShape[0] = rows;
        pastShape[1] = s.kvHeads();
        pastShape[2] = past;
        pastShape[3] = s.headDim();
        System.arraycopy(pastShape, 0, presentShape, 0, 4);
        presentShape[2] = total;
        logitShape[0] = rows;
        logitShape[1] = columns;
        logitShape[2] = vocab;
        try {
            inputs.put(OnnxNames.INPUT_IDS, track(OnnxTensor.createTensor(env, view(ids, rows * width), tokenShape)));
            inputs.put(OnnxNames.ATTENTION_MASK, track(OnnxTensor.createTensor(env, view(mask, rows * total), maskShape)));
            if (keeps) {
                keepInput.put(0, columns);
                inputs.put(s.logitsToKeep(), track(OnnxTensor.createTensor(env, keepInput, keepShape)));
            }
            if (s.cacheBranch()) {
                inputs.put(OnnxNames.USE_CACHE_BRANCH, track(OnnxTensor.createTensor(env, CACHE_BRANCH)));
            }
            if (s.positionIds()) {
                inputs.put(OnnxNames.POSITION_IDS, track(OnnxTensor.createTensor(env, view(positions, rows * width), tokenShape)));
            }
            for (int t = 0; t < pastNames.length; t++) {
                inputs.put(pastNames[t], track(OnnxTensor.createTensor(env, cache.past(t), pastShape, cacheType)));
                outputs.put(presentNames[t], track(OnnxTensor.createTensor(env, cache.present(t, total), presentShape,
                        cacheType)));
            }
            int count = rows * columns * vocab;
            FloatBuffer out = KvCache.view(logits, count);
            Precision precision = s.logitsPrecision();
            ByteBuffer narrow = precision == Precision.FLOAT32 ? null : KvCache.view(narrowLogits, count * precision.bytes);
            outputs.put(OnnxNames.LOGITS, track(narrow == null ? OnnxTensor.createTensor(env, out, logitShape)
                    : OnnxTensor.createTensor(env, narrow, logitShape, precision.type)));
            try (OrtSession.Result ignored = model.session().run(inputs, outputs)) {
                // the outputs are ours (pinned): the result owns nothing
            }
            if (narrow != null) {
                precision.widen(narrow, out, count);
            }
            cache.advance(total, added);
            passWidth = width;
            logitColumns = columns;
            return out;
        } finally {
            for (OnnxTensor t : open) {
                t.close();
            }
            open.clear();
            inputs.clear();
            outputs.clear();
        }
    }

    private OnnxTensor track(OnnxTensor tensor) {
        open.add(tensor);
        return tensor;
    }

    private void ensureCapacity(int rows, int width, int total, int columns) {
        if (ids.capacity() < rows * width) {
            ids = longs(KvCache.grow(ids.capacity(), rows * width));
            positions = longs(ids.capacity());
        }
        if (mask.capacity() < rows * total) {
            mask = longs(KvCache.grow(mask.capacity(), rows * total));
        }
        long logitFloats = (long) rows * columns * vocab;
        if (logitFloats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a pass of " + rows + " x " + width + " tokens would hold "
                    + logitFloats + " logits; use smaller chunks");
        }
        if (logits.capacity() < logitFloats) {
            logits = KvCache.allocate(KvCache.grow(logits.capacity(), (int) logitFloats));
        }
        int narrowBytes = model.signature().logitsPrecision() == Precision.FLOAT32 ? 0
                : (int) logitFloats * model.signature().logitsPrecision().bytes;
        if (narrowLogits.capacity() < narrowBytes) {
            narrowLogits = KvCache.bytes(KvCache.grow(narrowLogits.capacity(), narrowBytes));
        }
        if (added.length < rows) {
            added = new int[Math.max(rows, added.length * 2)];
        }
    }

    private static LongBuffer view(LongBuffer buffer, int count) {
        return buffer.duplicate().position(0).limit(count);
    }

    private static LongBuffer longs(int count) {
        return ByteBuffer.allocateDirect(count * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
    }
}
