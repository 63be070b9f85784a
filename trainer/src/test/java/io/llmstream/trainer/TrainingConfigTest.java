package io.llmstream.trainer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TrainingConfigTest {

    @Test
    void warmsUpLinearlyThenFollowsACosineToTheFloor() {
        TrainingConfig c = TrainingConfig.builder().learningRate(1.0).minLearningRate(0.1).warmupSteps(10)
                .maxSteps(110).build();
        assertThat(c.learningRate(0)).isCloseTo(0.1, within(1e-12));
        assertThat(c.learningRate(4)).isCloseTo(0.5, within(1e-12));
        assertThat(c.learningRate(9)).isCloseTo(1.0, within(1e-12));
        assertThat(c.learningRate(10)).isCloseTo(1.0, within(1e-12));
        assertThat(c.learningRate(60)).isCloseTo(0.55, within(1e-12)); // half way down the cosine
        assertThat(c.learningRate(110)).isCloseTo(0.1, within(1e-12));
        assertThat(c.learningRate(500)).isEqualTo(0.1);
        for (long s = 10; s < 110; s++) {
            assertThat(c.learningRate(s + 1)).isLessThanOrEqualTo(c.learningRate(s));
        }
    }

    @Test
    void rejectsSettingsThatCannotTrain() {
        assertThatThrownBy(() -> TrainingConfig.builder().learningRate(Double.POSITIVE_INFINITY).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TrainingConfig.builder().batchSize(0).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TrainingConfig.builder().keepCheckpoints(0).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GptConfig(10, 8, 1, 3, 16, 32, 0f, true))
                .hasMessageContaining("not a multiple of heads");
    }
}
