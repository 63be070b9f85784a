package io.llmstream.bench;

import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.LlamaConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TrainerBenchmarkTest {

    @Test
    void reportsThroughputAndUtilisation() throws IOException {
        GptConfig model = new GptConfig(64, 16, 1, 2, 32, 64, 0f, true);
        double matmul = TrainerBenchmark.matmulGflops(128, 3);
        TrainerBenchmark.Result r = TrainerBenchmark.measure("probe", model, 2, 1, 3, matmul);

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

    @Test
    void countsTheFlopsOfMatmulsOnlyForEitherArchitecture() throws IOException {
        // untied Llama: embed_tokens is a lookup, lm_head a matmul; GPT-2: the position table is a lookup
        LlamaConfig llama = new LlamaConfig(64, 16, 1, 2, 1, 32, 48, 10_000, 1e-5f, false, false);
        GptConfig gpt = new GptConfig(64, 16, 1, 2, 32, 64, 0f, true);
        assertThat(llama.matmulParameters()).isEqualTo(llama.parameterCount() - 64 * 32);
        assertThat(gpt.matmulParameters()).isEqualTo(gpt.parameterCount() - 16 * 32);

        TrainerBenchmark.Result r = TrainerBenchmark.measure("llama", llama, 2, 1, 2, 1.0);
        double flopsPerToken = 6.0 * llama.matmulParameters() + 12.0 * 1 * 16 * 32;
        assertThat(r.modelGflops()).isCloseTo(flopsPerToken * r.tokensPerSecond() / 1e9, within(1e-9));
    }
}
