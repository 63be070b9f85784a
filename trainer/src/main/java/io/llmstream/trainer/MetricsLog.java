package io.llmstream.trainer;

import io.llmstream.schemas.model.ModelFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The run's metrics as CSV ({@value ModelFiles#METRICS} beside the checkpoints): a row per training step (train loss,
 * learning rate, tokens/s) and one per evaluation (validation loss; accuracy when windows are labelled), so any tool
 * can plot them. Rows always describe
 * the weights the checkpoints hold: a resumed run, or a restore after a non-finite step, first drops the rows of the
 * steps it is about to redo.
 */
public final class MetricsLog implements TrainingListener, AutoCloseable {
    static final String HEADER = "step,train_loss,validation_loss,learning_rate,tokens_per_second,validation_accuracy";

    /** One row; NaN where the row has no such value. */
    public record Row(long step, double trainLoss, double validationLoss, double learningRate, double tokensPerSecond,
                      double validationAccuracy) {}

    private final Path file;
    private BufferedWriter out;

    /** The log of the run whose checkpoints are in {@code directory}; writes nothing before {@link #resumeAt}. */
    public MetricsLog(Path directory) {
        this.file = directory.resolve(ModelFiles.METRICS);
    }

    /** Keeps the rows of steps up to {@code step}, the one training goes on from, and appends from there. */
    public void resumeAt(long step) throws IOException {
        close();
        List<String> kept = rowsUpTo(file, step);
        Files.createDirectories(file.getParent());
        Files.write(file, kept, StandardCharsets.UTF_8);
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    @Override
    public void onStep(StepResult result) {
        if (!result.restored()) {
            append(new Row(result.step(), result.loss(), Double.NaN, result.learningRate(),
                    result.tokens() / result.seconds(), Double.NaN));
        }
    }

    @Override
    public void onEvaluation(Evaluation evaluation) {
        append(new Row(evaluation.step(), Double.NaN, evaluation.loss(), Double.NaN, Double.NaN, evaluation.accuracy()));
    }

    @Override
    public void onRestored(long failedStep, String reason, long restoredStep) {
        try {
            resumeAt(restoredStep);
        } catch (IOException e) {
            throw new UncheckedIOException("rewriting " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
            out = null;
        }
    }

    /**
     * Copies the rows of {@code csv} up to {@code step} to {@code target} (what a model version exported there saw) and
     * returns them.
     */
    public static List<Row> copyUpTo(Path csv, long step, Path target) throws IOException {
        List<String> lines = rowsUpTo(csv, step);
        Files.write(target, lines, StandardCharsets.UTF_8);
        return parse(lines);
    }

    public static List<Row> read(Path csv) throws IOException {
        return parse(Files.readAllLines(csv, StandardCharsets.UTF_8));
    }

    /** The rows of a file's lines, the header first. */
    private static List<Row> parse(List<String> lines) {
        List<Row> rows = new ArrayList<>();
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.split(",", -1);
            // files written before the accuracy column have five fields
            rows.add(new Row(Long.parseLong(f[0]), value(f[1]), value(f[2]), value(f[3]), value(f[4]),
                    f.length > 5 ? value(f[5]) : Double.NaN));
        }
        return rows;
    }

    private void append(Row row) {
        if (out == null) {
            return;
        }
        try {
            out.write(row.step() + "," + format(row.trainLoss()) + "," + format(row.validationLoss()) + ","
                    + format(row.learningRate()) + "," + format(row.tokensPerSecond()) + ","
                    + format(row.validationAccuracy()));
            out.newLine();
            out.flush(); // a killed trainer keeps every finished step's row
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<String> rowsUpTo(Path csv, long step) throws IOException {
        List<String> kept = new ArrayList<>(List.of(HEADER));
        if (Files.exists(csv)) {
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                int comma = line.indexOf(',');
                if (comma > 0 && Long.parseLong(line.substring(0, comma)) <= step) {
                    kept.add(line);
                }
            }
        }
        return kept;
    }

    private static String format(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    private static double value(String field) {
        return field.isEmpty() ? Double.NaN : Double.parseDouble(field);
    }
}
