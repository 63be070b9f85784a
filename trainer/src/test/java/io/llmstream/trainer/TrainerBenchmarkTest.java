package io.llmstream.trainer;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

class TrainerBenchmarkTest {

    @Test
    void reportsThroughputAndUtilisation() throws IOException {
        GptConfig model = new GptConfig(64, 16, 1, 2, 32, 64, 0f, true);
        double matmul = TrainerBenchmark.matmulGflops(128, 3);
        TrainerBenchmark.Result r = TrainerBenchmark.measure("probe", model, 2, 3, matmul);

        assertThat(matmul).isPositive().isFinite();
        assertThat(r.parameters()).isEqualTo(model.parameterCount());
        assertThat(r.tokensPerStep()).isEqualTo(32);
        assertThat(r.tokensPerSecond()).isPositive().isFinite();
        assertThat(r.mfu()).isEqualTo(r.modelGflops() / r.matmulGflops());
    }
}
