package io.llmstream.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WindowSourceTest {

    @TempDir
    Path dir;

    @Test
    void jsonlReadsSplitsSkipsBlankLinesAndNamesTheLine() throws IOException {
        Path file = Files.writeString(dir.resolve("w.jsonl"),
                "{\"tokens\":[1,2,3]}\n\n{\"tokens\":[4,5,6],\"split\":\"VALIDATION\"}\n");
        try (JsonlWindowSource source = new JsonlWindowSource(file, false)) {
            assertThat(source.next()).contains(new Window(new int[] {1, 2, 3}, Window.Split.TRAIN, "w.jsonl:1"));
            assertThat(source.next()).contains(new Window(new int[] {4, 5, 6}, Window.Split.VALIDATION, "w.jsonl:3"));
            assertThat(source.next()).isEmpty();
            assertThat(source.position()).isEqualTo(Map.of("w.jsonl", 2L));
        }
    }

    @Test
    void jsonlRejectsMalformedLinesWithTheirLineNumber() throws IOException {
        Path file = Files.writeString(dir.resolve("bad.jsonl"), "{\"tokens\":[1]}\n{\"tokens\":[1,2.5]}\n{\"tokens\":\n");
        try (JsonlWindowSource source = new JsonlWindowSource(file, false)) {
            source.next();
            assertThatThrownBy(source::next).hasMessageContaining("bad.jsonl:2").hasMessageContaining("not an int");
            assertThatThrownBy(source::next).hasMessageContaining("bad.jsonl:3");
        }
    }

    @Test
    void jsonlSeekContinuesAcrossRepeats() throws IOException {
        Path file = Files.writeString(dir.resolve("r.jsonl"), "{\"tokens\":[0]}\n{\"tokens\":[1]}\n{\"tokens\":[2]}\n");
        try (JsonlWindowSource source = new JsonlWindowSource(file, true)) {
            for (int i = 0; i < 4; i++) {
                source.next();
            }
            Map<String, Long> position = source.position();
            int after = source.next().orElseThrow().tokens()[0];

            source.seek(Map.of());
            assertThat(source.next().orElseThrow().tokens()[0]).isZero();
            source.seek(position);
            assertThat(source.next().orElseThrow().tokens()[0]).isEqualTo(after).isEqualTo(1);
        }
    }

    @Test
    void trainerSkipsAndReportsWindowsItCannotTrainOn() throws IOException {
        GptConfig model = new GptConfig(10, 4, 1, 1, 8, 16, 0f, true);
        List<Window> windows = List.of(
                new Window(new int[] {1, 2, 3, 4, 5}, Window.Split.TRAIN, "good-1"),
                new Window(new int[] {1, 2, 10, 4, 5}, Window.Split.TRAIN, "id-out-of-range"),
                new Window(new int[] {1, 2, 3}, Window.Split.TRAIN, "too-short"),
                new Window(new int[] {5, 4, 3, 2, 1}, Window.Split.TRAIN, "good-2"));
        List<String> rejected = new ArrayList<>();
        TrainingConfig training = TrainingConfig.builder().sequenceLength(4).batchSize(2).maxSteps(1).warmupSteps(1)
                .evalInterval(0).build();
        try (Trainer trainer = new Trainer(model, training, new InMemoryWindowSource(windows, false), null,
                new TrainingListener() {
                    @Override
                    public void onRejectedWindow(Window window, String reason) {
                        rejected.add(window.origin() + ": " + reason);
                    }
                })) {
            assertThat(trainer.trainStep()).isPresent();
            assertThat(trainer.trainStep()).isEmpty(); // the source has ended
        }
        assertThat(rejected).containsExactly(
                "id-out-of-range: id 10 is outside the vocabulary [0, 10)",
                "too-short: has 3 ids, expected 5");
    }
}
