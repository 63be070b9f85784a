package io.llmstream.inference.engine;

import ai.onnxruntime.OrtException;
import io.llmstream.inference.model.KvCache;
import io.llmstream.inference.model.ModelRunner;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Classification for the {@link Scheduler}: by the model's classification head when it has every candidate label (the
 * head's logits at the prompt's last position, one forward pass), else each label's log-probability as the prompt's
 * continuation.
 */
final class LabelScorer {
    private final BatchLimits limits;

    LabelScorer(BatchLimits limits) {
        this.limits = limits;
    }

    /**
     * Scores every label of every job: the prompts are prefilled together; a job the head answers reads its labels'
     * logits off the last position; the others read their first label tokens there, then the prompt caches are
     * repeated once per label and the remaining label tokens run in batches of rows.
     */
    <T> void classify(ModelEngine engine, List<Job<T>> jobs, List<Outcome<T>> done) {
        long startedNanos = System.nanoTime();
        long startedMillis = System.currentTimeMillis();
        int n = jobs.size();
        int[][] prompts = new int[n][];
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            int[] p = jobs.get(i).promptIds();
            int keep = Math.min(p.length, jobs.get(i).promptBudget());
            prompts[i] = Arrays.copyOfRange(p, p.length - keep, p.length);
            lengths[i] = keep;
        }
        try {
            double[][] scores = new double[n][];
            FloatBuffer logits = engine.prefill(engine.scratch, prompts, lengths, n, "classify");
            int width = engine.lastPrefillWidth();
            List<int[]> pending = new ArrayList<>(); // {job, label} of labels with more than one token
            for (int i = 0; i < n; i++) {
                List<Job.Label> labels = jobs.get(i).labels();
                scores[i] = new double[labels.size()];
                int at = engine.runner.logitsAt(i, width - 1);
                if (jobs.get(i).answeredByHead()) {
                    headScores(logits, at, labels, scores[i]);
                    continue;
                }
                double norm = logSumExp(logits, at, engine.vocab);
                for (int j = 0; j < labels.size(); j++) {
                    int[] ids = labels.get(j).ids();
                    scores[i][j] = logits.get(at + ids[0]) - norm;
                    if (ids.length > 1) {
                        pending.add(new int[] {i, j});
                    }
                }
            }
            scoreLabelTails(engine, jobs, pending, scores);
            long compute = System.nanoTime() - startedNanos;
            for (int i = 0; i < n; i++) {
                Classification c = classification(jobs.get(i).labels(), scores[i], lengths[i],
                        lengths[i] < jobs.get(i).promptIds().length, jobs.get(i).answeredByHead());
                done.add(new Outcome<>(jobs.get(i), null, c, null, startedMillis, compute));
            }
        } catch (OrtException | RuntimeException e) {
            for (Job<T> t : jobs) {
                done.add(Outcome.failed(t, startedMillis, startedNanos, e));
            }
        }
    }

    /** The head's log-probability of each candidate label, normalised over the candidates. */
    private static void headScores(FloatBuffer logits, int at, List<Job.Label> labels, double[] scores) {
        double max = Double.NEGATIVE_INFINITY;
        for (Job.Label label : labels) {
            max = Math.max(max, logits.get(at + label.headColumn()));
        }
        double sum = 0;
        for (Job.Label label : labels) {
            sum += Math.exp(logits.get(at + label.headColumn()) - max);
        }
        double norm = max + Math.log(sum);
        for (int j = 0; j < scores.length; j++) {
            scores[j] = logits.get(at + labels.get(j).headColumn()) - norm;
        }
    }

    /** Adds the log-probabilities of every label token after the first, given the prompt and the earlier ones. */
    private <T> void scoreLabelTails(ModelEngine engine, List<Job<T>> jobs, List<int[]> pending, double[][] scores)
            throws OrtException {
        int from = 0;
        while (from < pending.size()) {
            int maxRows = limits.maxPaddedRows(engine.model()); // tails of other lengths are padded
            int widest = 0;
            int to = from;
            while (to < pending.size() && to - from < maxRows) {
                int tail = label(jobs, pending.get(to)).length - 1;
                int width = Math.max(widest, tail);
                if (to > from && (long) (to - from + 1) * width * engine.runner.vocab() > ModelRunner.LOGITS_BUDGET) {
                    break;
                }
                widest = width;
                to++;
            }
            int count = to - from;
            KvCache[] sources = new KvCache[count];
            int[][] tails = new int[count][];
            int[] sourceRows = new int[count];
            for (int r = 0; r < count; r++) {
                int[] ref = pending.get(from + r);
                sources[r] = engine.scratch;
                sourceRows[r] = ref[0];
                tails[r] = label(jobs, ref);
            }
            engine.labels.gather(sources, sourceRows, count);
            long started = System.nanoTime();
            FloatBuffer logits = engine.runner.forward(engine.labels, widest, new ModelRunner.Tokens() {
                @Override
                public int count(int row) {
                    return tails[row].length - 1;
                }

                @Override
                public int token(int row, int i) {
                    return tails[row][i];
                }
            }, widest);
            engine.reportForward("classify", engine.labels, started);
            for (int r = 0; r < count; r++) {
                int[] ids = tails[r];
                int pad = widest - (ids.length - 1);
                double sum = 0;
                for (int k = 1; k < ids.length; k++) {
                    int at = engine.runner.logitsAt(r, pad + k - 1);
                    sum += logits.get(at + ids[k]) - logSumExp(logits, at, engine.vocab);
                }
                int[] ref = pending.get(from + r);
                scores[ref[0]][ref[1]] += sum;
            }
            from = to;
        }
    }

    private static <T> int[] label(List<Job<T>> jobs, int[] ref) {
        return jobs.get(ref[0]).labels().get(ref[1]).ids();
    }

    private static Classification classification(List<Job.Label> labels, double[] scores, int promptTokens,
                                                 boolean truncated, boolean byHead) {
        double max = Double.NEGATIVE_INFINITY;
        int best = 0;
        for (int j = 0; j < scores.length; j++) {
            if (scores[j] > max) {
                max = scores[j];
                best = j;
            }
        }
        double total = 0;
        for (double s : scores) {
            total += Math.exp(s - max);
        }
        Map<String, Double> probabilities = new LinkedHashMap<>();
        Map<String, Double> byLabel = new LinkedHashMap<>();
        for (int j = 0; j < scores.length; j++) {
            probabilities.put(labels.get(j).text(), Math.exp(scores[j] - max) / total);
            byLabel.put(labels.get(j).text(), scores[j]);
        }
        return new Classification(labels.get(best).text(), probabilities, byLabel, promptTokens, truncated, byHead);
    }

    private static double logSumExp(FloatBuffer logits, int at, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits.get(at + i));
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits.get(at + i) - max);
        }
        return max + Math.log(sum);
    }
}
