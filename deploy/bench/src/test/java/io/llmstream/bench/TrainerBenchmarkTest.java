package io.llmstream.bench;

import io.llmstream.trainer.GptConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

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

        JsonNode json = new ObjectMapper().readTree(TrainerBenchmark.toJson(List.of(r)));
        assertThat(json.at("/probe/tokensPerSecond").asDouble()).isEqualTo(r.tokensPerSecond());
        assertThat(json.at("/probe/mfu").asDouble()).isEqualTo(r.mfu());
        assertThat(json.at("/probe/matmulGflops").asDouble()).isEqualTo(matmul);
        assertThat(json.at("/probe/parameters").asLong()).isEqualTo(model.parameterCount());
    }
}
