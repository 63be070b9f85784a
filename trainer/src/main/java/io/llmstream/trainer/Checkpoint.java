package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to continue training as if it had never stopped: weights, AdamW moments and step, the step
 * counter (which with {@code seed} fixes the dropout stream), the source position after the last trained window, and the
 * validation windows collected so far. A value: arrays inside are not copied, so do not modify them.
 *
 * @param step         optimizer steps completed
 * @param model        the architecture the weights belong to
 * @param training     the settings in force when it was written (for the record; a resume may change them)
 * @param seed         the run's seed
 * @param positions    the window source's opaque position, e.g. Kafka partition to next offset
 * @param validation   VALIDATION windows kept so far
 * @param metrics      latest training and validation figures
 * @param weights      parameters by name, see {@link Decoder#namedParameters()}
 * @param adamM        AdamW first moments by parameter name
 * @param adamV        AdamW second moments by parameter name
 */
public record Checkpoint(long step, ModelConfig model, TrainingConfig training, long seed, Map<String, Long> positions,
                         List<Window> validation, Map<String, Double> metrics, Map<String, Tensor> weights,
                         Map<String, Tensor> adamM, Map<String, Tensor> adamV) {

    public Checkpoint {
        positions = Map.copyOf(positions);
        validation = List.copyOf(validation);
        metrics = Map.copyOf(metrics);
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        adamM = Collections.unmodifiableMap(new LinkedHashMap<>(adamM));
        adamV = Collections.unmodifiableMap(new LinkedHashMap<>(adamV));
    }

    /** Copies the weights into a model of the same architecture. */
    public void assignWeights(Decoder target) {
        if (!model.equals(target.config())) {
            throw new IllegalStateException("checkpoint of step " + step + " is for " + model + ", not for "
                    + target.config());
        }
        for (NamedParameter p : target.namedParameters()) {
            Tensor.require(weights, p.name()).assignTo(p.parameter().getArray());
        }
    }

    /** Name of the first tensor holding a NaN or an infinity, or null when all are finite. */
    public String firstNonFinite() {
        for (Map<String, Tensor> group : List.of(weights, adamM, adamV)) {
            for (Map.Entry<String, Tensor> e : group.entrySet()) {
                if (!e.getValue().isFinite()) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    /** A float32 tensor copied out of the engine. */
    public record Tensor(long[] shape, float[] data) {

        public Tensor {
            if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + data.length);
            }
        }

        static Tensor of(NDArray array) {
            return new Tensor(array.getShape().getShape(), array.toFloatArray());
        }

        static Tensor require(Map<String, Tensor> tensors, String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException("checkpoint has no tensor " + name);
            }
            return t;
        }

        boolean isFinite() {
            for (float f : data) {
                if (!Float.isFinite(f)) {
                    return false;
                }
            }
            return true;
        }

        /** Replaces the contents of {@code target} (same shape) with this tensor; gradient tracking is kept. */
        void assignTo(NDArray target) {
            if (!Arrays.equals(target.getShape().getShape(), shape)) {
                throw new IllegalArgumentException("shape " + target.getShape() + " != " + Arrays.toString(shape));
            }
            // Copied into the array itself, which keeps whatever native memory it ends up on alive. (create() + intern()
            // would move the native handle without the engine's direct buffer that backs it, leaving the weights on
            // memory the next GC frees.)
            target.set(FloatBuffer.wrap(data));
        }
    }
}
