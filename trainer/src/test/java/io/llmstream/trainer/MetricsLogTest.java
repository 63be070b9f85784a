package io.llmstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
    @TempDir
    Path dir;

    @Test
    void aRowPerStepAndEvaluationAndARestoreDropsTheStepsToRedo() throws IOException {
        try (MetricsLog log = new MetricsLog(dir)) {
            log.resumeAt(0);
            for (int step = 1; step <= 4; step++) {
                log.onStep(new StepResult(step, 3.0 - step * 0.5, 1e-3, 1.0, 1_000, 0.5, false));
            }
            log.onEvaluation(new Evaluation(4, 1.25, Math.exp(1.25), Double.NaN, 10));
            log.onStep(new StepResult(5, Double.NaN, 1e-3, Double.NaN, 0, 0.5, false));
            // step 5 was non-finite: training went back to the checkpoint of step 2
            log.onStep(new StepResult(2, Double.NaN, 1e-3, Double.NaN, 0, 0.5, true));
            log.onRestored(5, "loss NaN", 2);
            log.onStep(new StepResult(3, 1.4, 1e-3, 1.0, 1_000, 0.25, false));
        }

        assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).containsExactly(
                MetricsLog.HEADER,
                "1,2.50000,,0.00100000,2000.00,",
                "2,2.00000,,0.00100000,2000.00,",
                "3,1.40000,,0.00100000,4000.00,");
    }

    @Test
    void classificationEvaluationsAddTheirAccuracyAndFilesWithoutTheColumnStillRead() throws IOException {
        try (MetricsLog log = new MetricsLog(dir)) {
            log.resumeAt(0);
            log.onEvaluation(new Evaluation(7, 0.5, Math.exp(0.5), 0.875, 16));
        }
        assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).containsExactly(MetricsLog.HEADER,
                "7,,0.500000,,,0.875000");
        assertThat(MetricsLog.read(dir.resolve("metrics.csv")).get(0).validationAccuracy()).isEqualTo(0.875);

        Path old = dir.resolve("old.csv");
        Files.write(old, List.of("step,train_loss,validation_loss,learning_rate,tokens_per_second", "1,2.5,,0.001,2000"));
        MetricsLog.Row row = MetricsLog.read(old).get(0);
        assertThat(row.trainLoss()).isEqualTo(2.5);
        assertThat(row.validationAccuracy()).isNaN();
    }

    @Test
    void aResumedRunKeepsTheRowsUpToItsCheckpointAndACopyStopsAtTheExportedStep() throws IOException {
        try (MetricsLog log = new MetricsLog(dir)) {
            log.resumeAt(0);
            for (int step = 1; step <= 6; step++) {
                log.onStep(new StepResult(step, 2.0, 1e-3, 1.0, 100, 1.0, false));
            }
        }
        try (MetricsLog log = new MetricsLog(dir)) {
            log.resumeAt(4); // the newest checkpoint held step 4: steps 5 and 6 run again
            log.onStep(new StepResult(5, 1.0, 1e-3, 1.0, 100, 1.0, false));
        }
        List<Long> steps = new ArrayList<>();
        MetricsLog.read(dir.resolve("metrics.csv")).forEach(r -> steps.add(r.step()));
        assertThat(steps).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(MetricsLog.read(dir.resolve("metrics.csv")).get(4).trainLoss()).isEqualTo(1.0);

        Path copy = dir.resolve("copy.csv");
        MetricsLog.copyUpTo(dir.resolve("metrics.csv"), 3, copy);
        assertThat(MetricsLog.read(copy)).extracting(MetricsLog.Row::step).containsExactly(1L, 2L, 3L);
    }

    @Test
    void theCurveDrawsTrainAndValidationLoss() throws IOException {
        List<MetricsLog.Row> rows = new ArrayList<>();
        for (int step = 1; step <= 3_000; step++) {
            rows.add(new MetricsLog.Row(step, 4.0 / Math.sqrt(step), Double.NaN, 1e-3, 1e4, Double.NaN));
            if (step % 500 == 0) {
                rows.add(new MetricsLog.Row(step, Double.NaN, 4.2 / Math.sqrt(step), Double.NaN, Double.NaN, Double.NaN));
            }
        }
        Path png = dir.resolve("loss.png");
        LossCurve.write(rows, "tiny step-000000003000", png);

        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(LossCurve.WIDTH);
        assertThat(image.getHeight()).isEqualTo(LossCurve.HEIGHT);
        assertThat(pixels(image, LossCurve.TRAIN.getRGB())).isGreaterThan(500); // a line across the plot
        assertThat(pixels(image, LossCurve.VALIDATION.getRGB())).isGreaterThan(50);
    }

    private static int pixels(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                n += image.getRGB(x, y) == rgb ? 1 : 0;
            }
        }
        return n;
    }
}
