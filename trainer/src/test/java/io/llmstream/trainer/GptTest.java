package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class GptTest {

    @Test
    void logitsHaveShapeBTVAndIgnoreFutureTokens() {
        GptConfig config = new GptConfig(20, 8, 2, 2, 16, 32, 0f, true);
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt model = Gpt.create(config, manager, 3);
            int[] a = {1, 2, 3, 4, 5, 6};
            int[] b = {1, 2, 3, 9, 9, 9};
            NDArray logits = model.logits(manager.create(concat(a, b), new Shape(2, 6)));
            assertThat(logits.getShape()).isEqualTo(new Shape(2, 6, 20));

            float[] flat = logits.toFloatArray();
            int firstThree = 3 * 20;
            float[] rowA = Arrays.copyOfRange(flat, 0, firstThree);
            float[] rowB = Arrays.copyOfRange(flat, 6 * 20, 6 * 20 + firstThree);
            assertThat(rowB).containsExactly(rowA);
            assertThat(Arrays.copyOfRange(flat, firstThree, firstThree + 20))
                    .isNotEqualTo(Arrays.copyOfRange(flat, 6 * 20 + firstThree, 6 * 20 + firstThree + 20));
        }
    }

    @Test
    void parameterCountAndDecayFlagsFollowTheConfig() {
        for (boolean tied : new boolean[] {true, false}) {
            GptConfig config = new GptConfig(20, 8, 2, 2, 16, 40, 0f, tied);
            try (NDManager manager = NDManager.newBaseManager()) {
                Gpt model = Gpt.create(config, manager, 3);
                long total = model.namedParameters().stream()
                        .mapToLong(p -> p.parameter().getArray().size()).sum();
                assertThat(total).isEqualTo(config.parameterCount());
                assertThat(model.namedParameters()).filteredOn(NamedParameter::decay)
                        .extracting(NamedParameter::name)
                        .allMatch(n -> n.endsWith(".weight") && !n.contains(".ln_") && !n.startsWith("ln_f"))
                        .hasSize(4 * config.layers() + (tied ? 0 : 1));
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
