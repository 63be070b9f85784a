package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) with decoupled weight decay chosen per parameter, updating the model's arrays in place.
 * DJL's own {@code Optimizer.adamW} decays every parameter alike; GPT training decays only the weight matrices.
 * Runs outside any gradient collector (no autograd); one trainer thread.
 */
final class AdamW {

    /** Floats staged per bulk copy: small enough for the L1/L2 cache, large enough to amortise each copy. */
    private static final int CHUNK = 4096;
    private static final float[] ZEROS = new float[CHUNK];

    private record Slot(String name, NDArray weight, boolean decay, NDArray m, NDArray v) {}

    private final NDManager manager;
    private final List<Slot> slots = new ArrayList<>();
    private final NDArray[] arrays;
    /** Staging rows for the update: gradient, first and second moment, weight. */
    private final float[][] chunk = new float[4][CHUNK];
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final double weightDecay;
    private long t;

    AdamW(List<NamedParameter> parameters, NDManager manager, TrainingConfig config) {
        this.manager = manager;
        this.beta1 = (float) config.beta1();
        this.beta2 = (float) config.beta2();
        this.epsilon = (float) config.epsilon();
        this.weightDecay = config.weightDecay();
        List<NDArray> all = new ArrayList<>();
        for (NamedParameter p : parameters) {
            NDArray w = p.parameter().getArray();
            Slot slot = new Slot(p.name(), w, p.decay(), manager.zeros(w.getShape()), manager.zeros(w.getShape()));
            slots.add(slot);
            all.addAll(List.of(slot.weight, slot.m, slot.v));
        }
        arrays = all.toArray(NDArray[]::new);
    }

    /** Updates applied so far (Adam's t). */
    long steps() {
        return t;
    }

    /** L2 norm of all gradients taken together. */
    float gradientNorm() {
        try (NDManager scope = scope()) {
            double sumOfSquares = 0;
            for (Slot s : slots) {
                sumOfSquares += sumOfSquares(floats(s.weight.getGradient()), chunk);
            }
            return (float) Math.sqrt(sumOfSquares);
        }
    }

    /**
     * One update from the gradients times {@code gradientScale} (the clipping factor), then zeroes the gradients.
     * Runs over the tensors' own memory, one pass per parameter; as engine ops the same update took about 17 calls per
     * parameter, each a JNI crossing and a pass over memory (docs/BENCHMARKS.md has the before and after).
     */
    void update(double learningRate, float gradientScale) {
        t++;
        // StrictMath: Math.pow may give another last bit once the JIT has compiled its caller (the spec allows it), and a
        // resumed run must repeat the uninterrupted one bit for bit; Adam turns a last-bit difference into whole updates
        // of the weights whose gradients are noise (TrainerResumeTest failed 5 times in 180 repetitions with Math).
        float stepSize = (float) (learningRate / (1 - StrictMath.pow(beta1, t)));
        float secondCorrection = (float) (1 - StrictMath.pow(beta2, t));
        float decayFactor = (float) (1 - learningRate * weightDecay);
        try (NDManager scope = scope()) {
            for (Slot s : slots) {
                FloatBuffer g = floats(s.weight.getGradient());
                FloatBuffer w = floats(s.weight);
                FloatBuffer m = floats(s.m);
                FloatBuffer v = floats(s.v);
                float decay = s.decay ? decayFactor : 1f;
                float[] gc = chunk[0];
                float[] mc = chunk[1];
                float[] vc = chunk[2];
                float[] wc = chunk[3];
                for (int start = 0, n = g.limit(); start < n; start += CHUNK) {
                    int len = Math.min(CHUNK, n - start);
                    g.get(start, gc, 0, len);
                    m.get(start, mc, 0, len);
                    v.get(start, vc, 0, len);
                    w.get(start, wc, 0, len);
                    step(len, gradientScale, decay, stepSize, secondCorrection);
                    m.put(start, mc, 0, len);
                    v.put(start, vc, 0, len);
                    w.put(start, wc, 0, len);
                    g.put(start, ZEROS, 0, len); // gradients accumulate across backward calls until zeroed
                }
            }
        }
    }

    /** The update of the first {@code len} staged floats: a small hot method the JIT compiles and vectorises. */
    private void step(int len, float gradientScale, float decay, float stepSize, float secondCorrection) {
        float[] g = chunk[0];
        float[] m = chunk[1];
        float[] v = chunk[2];
        float[] w = chunk[3];
        for (int i = 0; i < len; i++) {
            float scaled = g[i] * gradientScale;
            m[i] = m[i] * beta1 + scaled * (1 - beta1);
            v[i] = v[i] * beta2 + scaled * scaled * (1 - beta2);
            w[i] = w[i] * decay - m[i] / ((float) Math.sqrt(v[i] / secondCorrection) + epsilon) * stepSize;
        }
    }

    /** Sum of squares in double, staged through the first chunk row. */
    private static double sumOfSquares(FloatBuffer values, float[][] chunk) {
        double sum = 0;
        float[] x = chunk[0];
        for (int start = 0, n = values.limit(); start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            values.get(start, x, 0, len);
            sum += sumOfSquares(x, len);
        }
        return sum;
    }

    /** Four lanes, so the additions do not wait on each other. */
    private static double sumOfSquares(float[] x, int len) {
        double a = 0;
        double b = 0;
        double c = 0;
        double d = 0;
        int i = 0;
        for (; i + 3 < len; i += 4) {
            a += x[i] * x[i];
            b += x[i + 1] * x[i + 1];
            c += x[i + 2] * x[i + 2];
            d += x[i + 3] * x[i + 3];
        }
        for (; i < len; i++) {
            a += x[i] * x[i];
        }
        return (a + b) + (c + d);
    }

    /**
     * The array's own memory (PyTorch hands out the storage of a contiguous CPU tensor; parameters, moments and, by
     * autograd's layout contract, the gradients of contiguous parameters are all contiguous).
     */
    private static FloatBuffer floats(NDArray array) {
        ByteBuffer bytes = array.toByteBuffer(true);
        if (!bytes.isDirect()) {
            throw new IllegalStateException("the engine copied " + array.getShape() + " instead of sharing its memory");
        }
        return bytes.asFloatBuffer();
    }

    Map<String, Checkpoint.Tensor> firstMoments() {
        return snapshot(true);
    }

    Map<String, Checkpoint.Tensor> secondMoments() {
        return snapshot(false);
    }

    /** Puts back a state taken by {@link #firstMoments()}, {@link #secondMoments()} and {@link #steps()}. */
    void restore(long steps, Map<String, Checkpoint.Tensor> m, Map<String, Checkpoint.Tensor> v) {
        for (Slot s : slots) {
            // a refused step leaves its gradients behind, NaN perhaps, which no arithmetic zeroes: overwrite them
            new Checkpoint.Tensor(s.weight.getShape().getShape(), new float[Math.toIntExact(s.weight.size())])
                    .assignTo(s.weight.getGradient());
            Checkpoint.Tensor.require(m, s.name).assignTo(s.m);
            Checkpoint.Tensor.require(v, s.name).assignTo(s.v);
        }
        t = steps;
    }

    private Map<String, Checkpoint.Tensor> snapshot(boolean first) {
        Map<String, Checkpoint.Tensor> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            out.put(s.name, Checkpoint.Tensor.of(first ? s.m : s.v));
        }
        return out;
    }

    // Temporaries (and gradient handles) of ops on the state would otherwise pile up in the long-lived managers:
    // temp-attaching the state to a short scope makes everything derived from it go when the scope closes.
    private NDManager scope() {
        NDManager scope = manager.newSubManager();
        scope.tempAttachAll(arrays);
        return scope;
    }
}
