package io.llmstream.trainer;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Restoring copies the weights into memory the engine owns, so nothing of the restore can be freed under them. */
class CheckpointTest {

    @Test
    void restoredWeightsStayIntactAfterTheCheckpointIsGarbageCollected() throws InterruptedException {
        GptConfig config = new GptConfig(300, 16, 1, 2, 32, 64, 0f, true);
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt source = Gpt.create(config, manager, 1);
            Map<String, Checkpoint.Tensor> weights = new LinkedHashMap<>();
            for (NamedParameter p : source.namedParameters()) {
                weights.put(p.name(), Checkpoint.Tensor.of(p.parameter().getArray()));
            }
            Gpt target = Gpt.create(config, manager, 2);
            new Checkpoint(0, config, TrainingConfig.builder().build(), 1, Map.of(), List.of(), Map.of(),
                    weights, Map.of(), Map.of()).assignWeights(target);

            // Give the collector every chance to free whatever the restore allocated, and malloc to reuse it.
            for (int i = 0; i < 20; i++) {
                System.gc();
                ByteBuffer.allocateDirect(1 << 16);
                Thread.sleep(5);
            }
            for (NamedParameter p : target.namedParameters()) {
                assertThat(p.parameter().getArray().toFloatArray()).as(p.name())
                        .containsExactly(weights.get(p.name()).data());
            }
        }
    }
}
