package io.llmstream.trainer;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws a run's {@link MetricsLog} rows as a PNG: train loss (averaged into at most 1 000 points) and validation loss
 * by step.
 */
public final class LossCurve {
    static final int WIDTH = 900;
    static final int HEIGHT = 500;
    static final Color TRAIN = new Color(31, 119, 180);
    static final Color VALIDATION = new Color(214, 39, 40);
    private static final int MAX_POINTS = 1_000;

    private LossCurve() {}

    public static void write(List<MetricsLog.Row> rows, String title, Path png) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // a trainer has no display
        }
        XYSeries train = new XYSeries("train loss");
        XYSeries validation = new XYSeries("validation loss");
        List<MetricsLog.Row> steps = rows.stream().filter(r -> !Double.isNaN(r.trainLoss())).toList();
        int bucket = Math.max(1, (steps.size() + MAX_POINTS - 1) / MAX_POINTS);
        for (int from = 0; from < steps.size(); from += bucket) {
            List<MetricsLog.Row> group = steps.subList(from, Math.min(steps.size(), from + bucket));
            double mean = group.stream().mapToDouble(MetricsLog.Row::trainLoss).average().orElseThrow();
            train.add(group.get(group.size() - 1).step(), mean);
        }
        rows.stream().filter(r -> !Double.isNaN(r.validationLoss()))
                .forEach(r -> validation.add(r.step(), r.validationLoss()));
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(train);
        data.addSeries(validation);

        NumberAxis stepAxis = new NumberAxis("step");
        stepAxis.setAutoRangeIncludesZero(false);
        NumberAxis lossAxis = new NumberAxis("loss (nats per token)");
        lossAxis.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        renderer.setSeriesPaint(0, TRAIN);
        renderer.setSeriesPaint(1, VALIDATION);
        renderer.setSeriesShapesVisible(1, true); // evaluations are few: mark each one
        renderer.setSeriesStroke(0, new BasicStroke(1.5f));
        renderer.setSeriesStroke(1, new BasicStroke(2f));
        XYPlot plot = new XYPlot(data, stepAxis, lossAxis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }
}
