package io.llmstream.trainer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
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
 * Test driver for an exported decoder in ONNX Runtime: left-padded batches, the KV cache fed back step by step,
 * the way the inference worker will drive it.
 */
final class OrtDecoder implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final ModelConfig config;

    private OrtSession.Result cache;   // presents of the last step, fed back as pasts
    private long[][] mask;             // attention mask over every slot so far
    private long[] nextPosition;       // position id of each row's next token

    OrtDecoder(byte[] model, ModelConfig config) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        this.session = env.createSession(model, options);
        this.config = config;
    }

    /**
     * First step: the prompts left-padded to the longest one, with an empty past. Returns logits [row][slot][vocab];
     * pad slots hold whatever the model computes there.
     */
    float[][][] prefill(int[][] prompts) throws OrtException {
        int width = 0;
        for (int[] p : prompts) {
            width = Math.max(width, p.length);
        }
        int b = prompts.length;
        long[][] ids = new long[b][width];
        long[][] positions = new long[b][width];
        mask = new long[b][width];
        nextPosition = new long[b];
        for (int r = 0; r < b; r++) {
            int pad = width - prompts[r].length;
            for (int s = 0; s < width; s++) {
                boolean real = s >= pad;
                ids[r][s] = real ? prompts[r][s - pad] : 0;
                mask[r][s] = real ? 1 : 0;
                positions[r][s] = real ? s - pad : 1; // cumsum(mask) - 1, with 1 where masked (Optimum's convention)
            }
            nextPosition[r] = prompts[r].length;
        }
        Map<String, OnnxTensor> past = emptyPast(b);
        try {
            return run(ids, positions, past);
        } finally {
            past.values().forEach(OnnxTensor::close);
        }
    }

    /** One cached step: one new token per row. Returns logits [row][vocab]. */
    float[][] next(int[] tokens) throws OrtException {
        int b = tokens.length;
        long[][] ids = new long[b][1];
        long[][] positions = new long[b][1];
        long[][] grown = new long[b][];
        for (int r = 0; r < b; r++) {
            ids[r][0] = tokens[r];
            positions[r][0] = nextPosition[r]++;
            grown[r] = Arrays.copyOf(mask[r], mask[r].length + 1);
            grown[r][mask[r].length] = 1;
        }
        mask = grown;
        Map<String, OnnxTensor> past = new HashMap<>();
        for (int i = 0; i < config.layers(); i++) {
            past.put(OnnxNames.pastKey(i), present(OnnxNames.presentKey(i)));
            past.put(OnnxNames.pastValue(i), present(OnnxNames.presentValue(i)));
        }
        float[][][] logits = run(ids, positions, past);
        float[][] last = new float[b][];
        for (int r = 0; r < b; r++) {
            last[r] = logits[r][0];
        }
        return last;
    }

    private float[][][] run(long[][] ids, long[][] positions, Map<String, OnnxTensor> past) throws OrtException {
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>(past);
            inputs.put(OnnxNames.INPUT_IDS, own(owned, longs(ids)));
            inputs.put(OnnxNames.ATTENTION_MASK, own(owned, longs(mask)));
            inputs.put(OnnxNames.POSITION_IDS, own(owned, longs(positions)));
            OrtSession.Result result = session.run(inputs);
            if (cache != null) {
                cache.close();
            }
            cache = result;
            OnnxTensor logits = (OnnxTensor) result.get(OnnxNames.LOGITS).orElseThrow();
            long[] shape = logits.getInfo().getShape();
            FloatBuffer data = logits.getFloatBuffer();
            float[][][] out = new float[(int) shape[0]][(int) shape[1]][(int) shape[2]];
            for (float[][] row : out) {
                for (float[] slot : row) {
                    data.get(slot);
                }
            }
            return out;
        } finally {
            owned.forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor present(String name) {
        return (OnnxTensor) cache.get(name).orElseThrow();
    }

    private Map<String, OnnxTensor> emptyPast(int batch) throws OrtException {
        Map<String, OnnxTensor> past = new HashMap<>();
        long[] shape = {batch, config.kvHeads(), 0, config.headDim()};
        for (int i = 0; i < config.layers(); i++) {
            for (String template : List.of(OnnxNames.PAST_KEY, OnnxNames.PAST_VALUE)) {
                FloatBuffer empty = ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()).asFloatBuffer();
                past.put(OnnxNames.layer(template, i), OnnxTensor.createTensor(env, empty, shape));
            }
        }
        return past;
    }

    private OnnxTensor longs(long[][] values) throws OrtException {
        int rows = values.length;
        int cols = values[0].length;
        LongBuffer buf = LongBuffer.allocate(rows * cols);
        for (long[] row : values) {
            buf.put(row);
        }
        buf.flip();
        return OnnxTensor.createTensor(env, buf, new long[] {rows, cols});
    }

    private static OnnxTensor own(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }

    @Override
    public void close() throws OrtException {
        if (cache != null) {
            cache.close();
        }
        session.close();
    }
}
