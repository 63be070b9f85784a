package io.llmstream.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReversalTaskTest {

    @Test
    void documentsAreExamplesWithTheirAnswers() {
        ReversalTask task = new ReversalTask(1, 3, 5);
        for (int i = 0; i < 100; i++) {
            String doc = task.nextExample().text();
            assertThat(doc).matches("reverse( [a-z]){3,5} =( [a-z]){3,5}\n");
            int cut = doc.indexOf(" =") + 2;
            assertThat(ReversalTask.isCorrect(doc.substring(0, cut), doc.substring(cut))).isTrue();
        }
    }

    @Test
    void heldOutPromptsNeverOccurInTrainingDocuments() {
        ReversalTask task = new ReversalTask(2, 3, 3); // 26^3 sequences: collisions are certain without the check
        Set<String> training = new HashSet<>();
        for (int i = 0; i < 5000; i++) {
            String doc = task.nextExample().text();
            training.add(doc.substring(0, doc.indexOf(" =") + 2));
        }
        List<String> heldOut = task.heldOutPrompts(500);
        assertThat(heldOut).hasSize(500).doesNotHaveDuplicates().noneMatch(training::contains);
    }

    @Test
    void sameSeedSameCorpus() {
        ReversalTask a = new ReversalTask(3, 3, 5);
        ReversalTask b = new ReversalTask(3, 3, 5);
        for (int i = 0; i < 50; i++) {
            assertThat(a.nextExample()).isEqualTo(b.nextExample());
        }
        assertThat(a.heldOutPrompts(10)).isEqualTo(b.heldOutPrompts(10));
    }

    @Test
    void checksAnswers() {
        assertThat(ReversalTask.expectedAnswer("reverse k q a z =")).isEqualTo("z a q k");
        assertThat(ReversalTask.isCorrect("reverse k q a z =", " z a q k\n")).isTrue();
        assertThat(ReversalTask.isCorrect("reverse k q a z =", " z a q")).isFalse();
        assertThat(ReversalTask.isCorrect("reverse k q a z =", " z a q k z")).isFalse();
        assertThatThrownBy(() -> ReversalTask.expectedAnswer("sort b a =")).hasMessageContaining("sort b a =");
    }
}
