package io.llmstream.bench;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark runs end to end and reports sane figures; its speeds are not asserted (they go to BENCHMARKS.md). */
class InferenceBenchmarkTest {

    @TempDir
    Path root;

    @Test
    void reportsEveryFigure() throws Exception {
        Path dir = InferenceBenchmark.randomModel(root, 32, 1, 2, 16, 32);
        try (DecoderModel model = ModelLoader.load(dir, RuntimeOptions.cpu())) {
            InferenceBenchmark.Result r = InferenceBenchmark.run(model, new InferenceBenchmark.Workload(12, 6, 6, 1));
            assertThat(r.model()).isEqualTo("bench:1");
            assertThat(r.provider()).isEqualTo("cpu");
            assertThat(java.util.List.of(r.naive(), r.batch1(), r.batch8(), r.batch32(), r.continuous()))
                    .allSatisfy(tokensPerSecond -> assertThat(tokensPerSecond).isPositive());
            assertThat(r.batch8Speedup()).isPositive();
            assertThat(r.batch32Speedup()).isPositive();
            assertThat(r.paddingWaste()).isBetween(0.0, 1.0);
        }
    }
}
