package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** AdamW's arithmetic against a plain double-precision reference, with decay on one tensor and not the other. */
class AdamWTest {

    @Test
    void matchesReferenceUpdateAndDecaysOnlyFlaggedTensors() {
        double lr = 0.01;
        double wd = 0.1;
        double b1 = 0.9;
        double b2 = 0.95;
        double eps = 1e-8;
        float scale = 0.5f;
        TrainingConfig config = TrainingConfig.builder().learningRate(lr).weightDecay(wd).betas(b1, b2).epsilon(eps)
                .build();
        try (NDManager manager = NDManager.newBaseManager()) {
            // longer than the optimizer's staging chunk (4096 floats), so a chunk boundary and a partial chunk are crossed
            int n = 4096 + 3;
            float[] initial = new float[n];
            for (int i = 0; i < n; i++) {
                initial[i] = (float) Math.sin(i);
            }
            Parameter w = parameter(manager, "w", initial);
            Parameter b = parameter(manager, "b", new float[] {0.3f, -0.1f});
            AdamW adam = new AdamW(List.of(new NamedParameter("w", w, true),
                    new NamedParameter("b", b, false)), manager, config);

            double[][] weights = {new double[n], {0.3, -0.1}};
            for (int i = 0; i < n; i++) {
                weights[0][i] = initial[i];
            }
            double[][] m = {new double[n], new double[2]};
            double[][] v = {new double[n], new double[2]};
            boolean[] decay = {true, false};
            for (int t = 1; t <= 3; t++) {
                // Different gradients every step: a gradient left over from the step before would show.
                double[][] grads = {new double[n], {-0.3 * t, 0.05}};
                for (int i = 0; i < n; i++) {
                    grads[0][i] = Math.cos(i * t) / t;
                }
                try (NDManager scope = manager.newSubManager();
                     GradientCollector collector = manager.getEngine().newGradientCollector()) {
                    NDArray loss = dot(scope, w, grads[0]).add(dot(scope, b, grads[1]));
                    collector.backward(loss);
                }
                double norm = 0;
                for (double[] g : grads) {
                    for (double x : g) {
                        norm += x * x;
                    }
                }
                assertThat(adam.gradientNorm()).isCloseTo((float) Math.sqrt(norm), within(1e-4f));
                adam.update(lr, scale);

                for (int p = 0; p < 2; p++) {
                    for (int i = 0; i < weights[p].length; i++) {
                        double g = grads[p][i] * scale;
                        m[p][i] = b1 * m[p][i] + (1 - b1) * g;
                        v[p][i] = b2 * v[p][i] + (1 - b2) * g * g;
                        if (decay[p]) {
                            weights[p][i] *= 1 - lr * wd;
                        }
                        double mHat = m[p][i] / (1 - Math.pow(b1, t));
                        double vHat = v[p][i] / (1 - Math.pow(b2, t));
                        weights[p][i] -= lr * mHat / (Math.sqrt(vHat) + eps);
                    }
                }
                assertClose(w.getArray().toFloatArray(), weights[0]);
                assertClose(b.getArray().toFloatArray(), weights[1]);
            }
            assertThat(adam.steps()).isEqualTo(3);
        }
    }

    @Test
    void aRestoreAfterANonFiniteGradientStartsTheNextStepFromCleanGradients() {
        TrainingConfig config = TrainingConfig.builder().learningRate(0.1).weightDecay(0).build();
        try (NDManager manager = NDManager.newBaseManager()) {
            Parameter w = parameter(manager, "w", new float[] {1f, 2f});
            AdamW adam = new AdamW(List.of(new NamedParameter("w", w, true)), manager, config);
            var m = adam.firstMoments();
            var v = adam.secondMoments();
            backward(manager, w, new double[] {Double.NaN, 1});
            assertThat(adam.gradientNorm()).isNaN();
            adam.restore(0, m, v); // what the trainer does with a refused step

            backward(manager, w, new double[] {0.5, -0.5});
            assertThat(adam.gradientNorm()).isCloseTo((float) Math.sqrt(0.5), within(1e-6f));
            adam.update(0.1, 1f);
            // Adam's first step moves each weight by the learning rate against its gradient's sign
            assertClose(w.getArray().toFloatArray(), new double[] {0.9, 2.1});
        }
    }

    private static void backward(NDManager manager, Parameter p, double[] gradient) {
        try (NDManager scope = manager.newSubManager();
             GradientCollector collector = manager.getEngine().newGradientCollector()) {
            collector.backward(dot(scope, p, gradient));
        }
    }

    private static Parameter parameter(NDManager manager, String name, float[] values) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT)
                .optArray(manager.create(values)).build();
        p.initialize(manager, DataType.FLOAT32);
        return p;
    }

    private static NDArray dot(NDManager scope, Parameter p, double[] coefficients) {
        float[] c = new float[coefficients.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) coefficients[i];
        }
        return scope.create(c).mul(p.getArray()).sum();
    }

    private static void assertClose(float[] actual, double[] expected) {
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], within(1e-6));
        }
    }
}
