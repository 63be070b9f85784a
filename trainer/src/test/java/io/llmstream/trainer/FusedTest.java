package io.llmstream.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Each fused operator against the same arithmetic written out: values, and gradients against separate operators. */
class FusedTest {

    private static final Shape SHAPE = new Shape(2, 3, 5, 4); // batch, heads, positions, head width

    @Test
    void givesTheSoftmaxOfMaskedScaledScoresTimesTheValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(7);
            NDArray q = m.randomNormal(SHAPE);
            NDArray k = m.randomNormal(SHAPE);
            NDArray v = m.randomNormal(SHAPE);
            float[] fused = Fused.causalAttention(q, k, v, 0f, false).toFloatArray();
            float[] expected = byHand(q.toFloatArray(), k.toFloatArray(), v.toFloatArray());
            for (int i = 0; i < expected.length; i++) {
                assertThat(fused[i]).as("element %d", i).isCloseTo(expected[i], within(1e-5f));
            }
        }
    }

    @Test
    void itsGradientsAreThoseOfTheAttentionWrittenAsSeparateOperators() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(11);
            NDArray[] fused = {m.randomNormal(SHAPE), m.randomNormal(SHAPE), m.randomNormal(SHAPE)};
            NDArray[] separate = new NDArray[3];
            for (int i = 0; i < 3; i++) {
                separate[i] = fused[i].duplicate();
                fused[i].setRequiresGradient(true);
                separate[i].setRequiresGradient(true);
            }
            NDArray weights = m.randomNormal(SHAPE); // a loss that weighs every output differently
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(Fused.causalAttention(fused[0], fused[1], fused[2], 0f, true).mul(weights).sum());
            }
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(separateOperators(separate[0], separate[1], separate[2]).mul(weights).sum());
            }
            for (int i = 0; i < 3; i++) {
                float[] a = fused[i].getGradient().toFloatArray();
                float[] b = separate[i].getGradient().toFloatArray();
                for (int j = 0; j < a.length; j++) {
                    assertThat(a[j]).as("gradient of input %d, element %d", i, j).isCloseTo(b[j], within(1e-5f));
                }
            }
        }
    }

    @Test
    void dropsAttentionWeightsOnlyWhileTraining() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray q = m.randomNormal(SHAPE);
            float[] plain = Fused.causalAttention(q, q, q, 0.5f, false).toFloatArray();
            float[] dropped = Fused.causalAttention(q, q, q, 0.5f, true).toFloatArray();
            assertThat(Fused.causalAttention(q, q, q, 0.5f, false).toFloatArray()).containsExactly(plain);
            assertThat(dropped).isNotEqualTo(plain);
        }
    }

    @Test
    void negativeLogLikelihoodSumsOverTheCountedRowsOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[][] logits = {{1f, 2f, 3f}, {0.5f, -1f, 0f}, {2f, 2f, -3f}};
            long[] targets = {2, Fused.IGNORED, 0};
            NDArray x = m.create(logits);
            x.setRequiresGradient(true);
            NDArray sum;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                sum = Fused.negativeLogLikelihood(x, m.create(targets));
                collector.backward(sum);
            }
            double expected = 0;
            float[] gradient = x.getGradient().toFloatArray();
            for (int i = 0; i < 3; i++) {
                double total = 0;
                for (float z : logits[i]) {
                    total += Math.exp(z);
                }
                for (int c = 0; c < 3; c++) {
                    // d/dz of -log softmax(z)[t] = softmax(z) - onehot(t); an ignored row has none
                    double want = targets[i] == Fused.IGNORED ? 0 : Math.exp(logits[i][c]) / total - (c == targets[i] ? 1 : 0);
                    assertThat(gradient[i * 3 + c]).as("gradient [%d][%d]", i, c).isCloseTo((float) want, within(1e-6f));
                }
                if (targets[i] != Fused.IGNORED) {
                    expected -= Math.log(Math.exp(logits[i][(int) targets[i]]) / total);
                }
            }
            assertThat(sum.getFloat()).isCloseTo((float) expected, within(1e-5f));
        }
    }

    @Test
    void siluIsXTimesItsSigmoidWithThatGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] values = {-3f, -0.5f, 0f, 0.7f, 4f};
            NDArray x = m.create(values);
            x.setRequiresGradient(true);
            NDArray y;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                y = Fused.silu(x);
                collector.backward(y.sum());
            }
            float[] out = y.toFloatArray();
            float[] gradient = x.getGradient().toFloatArray();
            for (int i = 0; i < values.length; i++) {
                double s = 1 / (1 + Math.exp(-values[i]));
                assertThat(out[i]).isCloseTo((float) (values[i] * s), within(1e-6f));
                assertThat(gradient[i]).isCloseTo((float) (s * (1 + values[i] * (1 - s))), within(1e-6f));
            }
        }
    }

    /** The products, the mask and the softmax as DJL operators, differentiable. */
    private static NDArray separateOperators(NDArray q, NDArray k, NDArray v) {
        NDManager m = q.getManager();
        long t = SHAPE.get(2);
        NDArray positions = m.arange(0, (int) t, 1, DataType.INT64);
        NDArray allowed = positions.reshape(t, 1).gte(positions.reshape(1, t));
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(m.create((float) (1 / Math.sqrt(SHAPE.get(3)))));
        NDArray masked = NDArrays.where(allowed.broadcast(scores.getShape()), scores, m.create(-1e30f));
        return masked.softmax(-1).matMul(v);
    }

    /** softmax over keys j <= i of q_i . k_j / sqrt(d), times v, in double. */
    private static float[] byHand(float[] q, float[] k, float[] v) {
        int heads = (int) (SHAPE.get(0) * SHAPE.get(1));
        int t = (int) SHAPE.get(2);
        int d = (int) SHAPE.get(3);
        float[] out = new float[q.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < t; i++) {
                double[] w = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += (double) q[(h * t + i) * d + c] * k[(h * t + j) * d + c];
                    }
                    w[j] = s / Math.sqrt(d);
                    max = Math.max(max, w[j]);
                }
                double total = 0;
                for (int j = 0; j <= i; j++) {
                    w[j] = Math.exp(w[j] - max);
                    total += w[j];
                }
                for (int c = 0; c < d; c++) {
                    double y = 0;
                    for (int j = 0; j <= i; j++) {
                        y += w[j] / total * v[(h * t + j) * d + c];
                    }
                    out[(h * t + i) * d + c] = (float) y;
                }
            }
        }
        return out;
    }
}
