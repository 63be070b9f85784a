package io.llmstream.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checkpoints are all-or-nothing: an interrupted or damaged write never replaces a good checkpoint. */
class CheckpointStoreTest {

    private static final GptConfig MODEL = GptConfig.of(10, 8, 1, 1, 4);
    private static final TrainingConfig TRAINING = TrainingConfig.builder().sequenceLength(8).build();

    @TempDir
    Path root;

    @Test
    void roundTripsEveryField() throws IOException {
        CheckpointStore store = new CheckpointStore(root, 3);
        Checkpoint written = checkpoint(7, 0.25f);
        store.save(written);

        Checkpoint read = store.loadLatest().orElseThrow();
        assertThat(read.step()).isEqualTo(7);
        assertThat(read.model()).isEqualTo(MODEL);
        assertThat(read.training()).isEqualTo(TRAINING);
        assertThat(read.seed()).isEqualTo(42);
        assertThat(read.positions()).isEqualTo(Map.of("training-windows-0", 1234L, "training-windows-1", 99L));
        assertThat(read.validation()).isEqualTo(written.validation());
        assertThat(read.metrics()).isEqualTo(written.metrics());
        for (var group : List.of(List.of(read.weights(), written.weights()), List.of(read.adamM(), written.adamM()),
                List.of(read.adamV(), written.adamV()))) {
            assertThat(group.get(0).keySet()).containsExactlyElementsOf(group.get(1).keySet());
            group.get(1).forEach((name, t) -> {
                assertThat(group.get(0).get(name).shape()).isEqualTo(t.shape());
                assertThat(group.get(0).get(name).data()).isEqualTo(t.data());
            });
        }
    }

    @Test
    void writeInterruptedBeforeTheRenameLeavesThePreviousCheckpoint() throws IOException {
        new CheckpointStore(root, 3).save(checkpoint(1, 1f));
        CheckpointStore crashing = new CheckpointStore(root, 3, temporary -> {
            throw new IOException("disk pulled out");
        });

        assertThatThrownBy(() -> crashing.save(checkpoint(2, 2f))).hasMessageContaining("disk pulled out");

        assertThat(crashing.steps()).containsExactly(1L);
        assertThat(crashing.loadLatest().orElseThrow().weights().get("w").data()).containsOnly(1f);
        assertThat(entries()).containsExactly("step-000000000001");
    }

    @Test
    void leftoverOfAProcessThatDiedMidWriteIsIgnoredAndCleanedOnOpen() throws IOException {
        new CheckpointStore(root, 3).save(checkpoint(1, 1f));
        // What a kill -9 during save leaves: a half-written temporary directory, never renamed.
        Path[] kept = new Path[1];
        try {
            new CheckpointStore(root, 3, temporary -> {
                Path copy = root.resolve(".tmp-step-000000000002-died");
                Files.createDirectory(copy);
                Files.copy(temporary.resolve("tensors.bin"), copy.resolve("tensors.bin"));
                kept[0] = copy;
                throw new IOException("killed");
            }).save(checkpoint(2, 2f));
        } catch (IOException expected) {
            // the process "died" here
        }
        assertThat(kept[0]).exists();

        CheckpointStore reopened = new CheckpointStore(root, 3);
        assertThat(reopened.loadLatest().orElseThrow().step()).isEqualTo(1);
        assertThat(entries()).containsExactly("step-000000000001");
    }

    @Test
    void damagedNewestCheckpointFallsBackToTheOneBefore() throws IOException {
        CheckpointStore store = new CheckpointStore(root, 3);
        store.save(checkpoint(1, 1f));
        Path newest = store.save(checkpoint(2, 2f));
        byte[] bytes = Files.readAllBytes(newest.resolve("tensors.bin"));
        bytes[bytes.length - 1] ^= 0x01; // one flipped bit in the last float
        Files.write(newest.resolve("tensors.bin"), bytes);

        assertThat(store.loadLatest().orElseThrow().step()).isEqualTo(1);
    }

    @Test
    void keepsOnlyTheNewest() throws IOException {
        CheckpointStore store = new CheckpointStore(root, 2);
        for (int step = 1; step <= 4; step++) {
            store.save(checkpoint(step, step));
        }
        assertThat(store.steps()).containsExactly(3L, 4L);
        assertThat(store.loadLatest().orElseThrow().weights().get("w").data()).containsOnly(4f);
    }

    @Test
    void emptyStoreHasNothingToLoad() throws IOException {
        assertThat(new CheckpointStore(root, 1).loadLatest()).isEmpty();
    }

    private List<String> entries() throws IOException {
        try (Stream<Path> list = Files.list(root)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Checkpoint checkpoint(long step, float fill) {
        float[] w = new float[6];
        Arrays.fill(w, fill);
        Map<String, Checkpoint.Tensor> weights = Map.of("w", new Checkpoint.Tensor(new long[] {2, 3}, w));
        Map<String, Checkpoint.Tensor> m = Map.of("w", new Checkpoint.Tensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        Map<String, Checkpoint.Tensor> v = Map.of("w", new Checkpoint.Tensor(new long[] {2, 3}, new float[] {6, 5, 4, 3, 2, 1}));
        List<Window> validation = List.of(new Window(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, Window.Split.VALIDATION, "t-0@5"));
        return new Checkpoint(step, MODEL, TRAINING, 42, Map.of("training-windows-0", 1234L, "training-windows-1", 99L),
                validation, Map.of("train_loss", 2.5, "validation_loss", 2.75), weights, m, v);
    }
}
