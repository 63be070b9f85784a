package io.llmstream.ops;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Progress of long work: a redrawn bar on a terminal, plain log lines (at most one every few seconds) otherwise, so
 * logs stay readable in containers and CI. Not thread-safe: one worker reports.
 */
public final class Progress {
    private static final long LOG_EVERY_NANOS = 5_000_000_000L;
    private static final long DRAW_EVERY_NANOS = 100_000_000L;

    private final String label;
    private final long total;
    private final boolean terminal;
    private final PrintStream out;
    private final long startNanos = System.nanoTime();
    private long done;
    private long lastPrintNanos;

    private Progress(String label, long total, boolean terminal, PrintStream out) {
        this.label = label;
        this.total = total;
        this.terminal = terminal;
        this.out = out;
    }

    /** Progress towards {@code total} units (0 or less when unknown), drawn on stderr. */
    public static Progress start(String label, long total) {
        return new Progress(label, total, System.console() != null, System.err);
    }

    /** Adds {@code units} done; {@code detail} (e.g. "loss 2.31") is only computed when a line is printed. */
    public void advance(long units, Supplier<String> detail) {
        done += units;
        long now = System.nanoTime();
        if (now - lastPrintNanos >= (terminal ? DRAW_EVERY_NANOS : LOG_EVERY_NANOS)) {
            lastPrintNanos = now;
            print(detail.get(), false);
        }
    }

    public void advance(long units) {
        advance(units, () -> "");
    }

    /** Prints the final state and ends the bar's line. */
    public void finish(String detail) {
        print(detail, true);
    }

    public long done() {
        return done;
    }

    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private void print(String detail, boolean last) {
        double secs = Math.max(1e-9, seconds());
        double rate = done / secs;
        StringBuilder line = new StringBuilder(label).append(' ');
        if (total > 0) {
            int width = 30;
            int filled = (int) Math.min(width, width * done / total);
            line.append('[').append("#".repeat(filled)).append(" ".repeat(width - filled)).append("] ")
                    .append(done).append('/').append(total);
            if (!last && done > 0 && done < total) {
                line.append(String.format(Locale.ROOT, " ETA %.0fs", (total - done) / rate));
            }
        } else {
            line.append(done);
        }
        line.append(String.format(Locale.ROOT, " %.1f/s", rate));
        if (!detail.isEmpty()) {
            line.append("  ").append(detail);
        }
        if (terminal) {
            out.print("\r" + line + "\u001b[K" + (last ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }
}
