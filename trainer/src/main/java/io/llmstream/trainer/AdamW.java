package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

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

    private record Slot(String name, NDArray weight, boolean decay, NDArray m, NDArray v) {}

    private final NDManager manager;
    private final List<Slot> slots = new ArrayList<>();
    private final NDArray[] arrays;
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
                sumOfSquares += s.weight.getGradient().square().sum().getFloat();
            }
            return (float) Math.sqrt(sumOfSquares);
        }
    }

    /** One update from the gradients times {@code gradientScale} (the clipping factor), then zeroes the gradients. */
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
                NDArray g = s.weight.getGradient();
                NDArray scaled = g.mul(gradientScale);
                s.m.muli(beta1).addi(scaled.mul(1 - beta1));
                s.v.muli(beta2).addi(scaled.square().muli(1 - beta2));
                if (s.decay) {
                    s.weight.muli(decayFactor);
                }
                NDArray denominator = s.v.div(secondCorrection).sqrt().addi(epsilon);
                s.weight.subi(s.m.div(denominator).muli(stepSize));
                g.subi(g); // gradients accumulate across backward calls until zeroed; they are finite here
            }
        }
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
