package io.llmstream.inference;

import ai.onnxruntime.OrtException;

import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Batches tasks onto their models with continuous batching. Generations decode together, one token per sequence per
 * {@link #step}; between steps finished sequences leave (the cache is rebuilt without them) and waiting ones join:
 * their prompts are prefilled on their own, left-padded, then their caches are merged with the running batch's,
 * right-aligned, so a long generation does not hold short ones back. Classifications run between decode steps.
 *
 * <p>Batches hold one model. Tasks are taken in submission order; a task for another model than the running batch's
 * waits until that batch drains (then its model's batch starts), so a steady stream for one model cannot starve
 * another. An idle scheduler waits up to {@link BatchLimits#maxWait()} for a fuller first batch.
 *
 * <p>A failing forward pass fails the tasks in it (their outcomes carry the error), never the scheduler. Not
 * thread-safe: one thread submits and steps.
 */
public final class Scheduler<T> {

    private final BatchLimits limits;
    private final InferenceListener listener;
    private final ArrayDeque<Task<T>> queue = new ArrayDeque<>();
    private final Map<DecoderModel, Engine> engines = new LinkedHashMap<>();
    private List<Sequence<T>> rows = new ArrayList<>();
    private Engine active;

    public Scheduler(BatchLimits limits, InferenceListener listener) {
        this.limits = limits;
        this.listener = listener;
    }

    public void submit(Task<T> task) {
        queue.addLast(task);
    }

    /** Tasks waiting to start. */
    public int queued() {
        return queue.size();
    }

    /** Generations in the running batch. */
    public int running() {
        return rows.size();
    }

    public boolean isIdle() {
        return queue.isEmpty() && rows.isEmpty();
    }

    /** Whether a task for {@code model} is waiting or running. */
    public boolean uses(DecoderModel model) {
        return (active != null && active.runner.model() == model && !rows.isEmpty())
                || queue.stream().anyMatch(t -> t.model() == model);
    }

    /** Drops the buffers kept for a model that will not come back (after it is unloaded). */
    public void forget(DecoderModel model) {
        if (uses(model)) {
            throw new IllegalStateException(model.id() + " still has tasks");
        }
        engines.remove(model);
        if (active != null && active.runner.model() == model) {
            active = null;
        }
    }

    /**
     * Nanoseconds until {@link #step} has work: 0 when a batch runs or a first batch is due, the rest of
     * {@code maxWait} while an idle scheduler waits for more tasks, {@link Long#MAX_VALUE} when there are none.
     */
    public long nanosUntilReady() {
        if (!rows.isEmpty()) {
            return 0;
        }
        Task<T> head = queue.peekFirst();
        if (head == null) {
            return Long.MAX_VALUE;
        }
        int maxRows = maxRows(head.model());
        int count = 0;
        int width = 0;
        for (Task<T> t : queue) {
            if (t.model() != head.model()) {
                return 0; // someone else waits behind this batch: no reason to delay it
            }
            count++;
            width = Math.max(width, Math.min(t.promptIds().length, t.promptBudget()));
            if (count >= maxRows || (long) count * width >= limits.maxBatchTokens()) {
                return 0;
            }
        }
        return Math.max(0, limits.maxWait().toNanos() - (System.nanoTime() - head.submitNanos()));
    }

    /**
     * Does the next piece of work: runs the classifications that are due, lets waiting generations join the batch
     * (prefill) and decodes one token for every running generation.
     *
     * @return the tasks that ended in this step
     */
    public List<Outcome<T>> step() {
        List<Outcome<T>> done = new ArrayList<>();
        if (nanosUntilReady() > 0) {
            return done;
        }
        Engine engine = rows.isEmpty() ? engine(queue.peekFirst().model()) : active;
        List<Task<T>> classifications = new ArrayList<>();
        List<Sequence<T>> joining = new ArrayList<>();
        take(engine, classifications, joining);
        if (!classifications.isEmpty()) {
            classify(engine, classifications, done);
        }
        if (!joining.isEmpty()) {
            join(engine, joining, done);
        }
        if (!rows.isEmpty()) {
            decode(done);
        }
        return done;
    }

    /** Steps until every submitted task has ended, ignoring {@code maxWait}; for callers without a stream. */
    public List<Outcome<T>> drain() {
        List<Outcome<T>> done = new ArrayList<>();
        while (!isIdle()) {
            long wait = nanosUntilReady();
            if (wait > 0) {
                sleep(wait);
            }
            done.addAll(step());
        }
        return done;
    }

    /**
     * Removes the waiting and running tasks whose tag matches, without outcomes (e.g. those of partitions this worker
     * no longer owns); the running batch continues with the rest.
     *
     * @return the tasks removed
     */
    public List<Task<T>> cancel(Predicate<T> which) {
        List<Task<T>> cancelled = new ArrayList<>();
        for (Iterator<Task<T>> it = queue.iterator(); it.hasNext(); ) {
            Task<T> t = it.next();
            if (which.test(t.tag())) {
                cancelled.add(t);
                it.remove();
            }
        }
        List<Sequence<T>> keep = new ArrayList<>();
        for (Sequence<T> s : rows) {
            if (which.test(s.task.tag())) {
                cancelled.add(s.task);
            } else {
                keep.add(s);
            }
        }
        if (keep.size() != rows.size()) {
            regroup(keep);
        }
        return cancelled;
    }

    // ---- batch formation ------------------------------------------------------------------------------------------

    private int maxRows(DecoderModel model) {
        // Without position ids a left-padded row would get shifted positions: such models run unpadded, alone.
        return model.signature().positionIds() ? limits.maxBatchSize() : 1;
    }

    /** Takes the leading tasks for the engine's model that fit: classifications, and generations that can join. */
    private void take(Engine engine, List<Task<T>> classifications, List<Sequence<T>> joining) {
        DecoderModel model = engine.runner.model();
        int maxRows = maxRows(model);
        int classifyWidth = 0;
        int joinWidth = 0;
        while (!queue.isEmpty() && queue.peekFirst().model() == model) {
            Task<T> t = queue.peekFirst();
            int length = Math.min(t.promptIds().length, t.promptBudget());
            if (t.isGeneration()) {
                int width = Math.max(joinWidth, length);
                if (rows.size() + joining.size() >= maxRows
                        || (!joining.isEmpty() && (long) (joining.size() + 1) * width > limits.maxBatchTokens())) {
                    return;
                }
                joinWidth = width;
                joining.add(new Sequence<>(queue.pollFirst()));
            } else {
                int width = Math.max(classifyWidth, length);
                if (classifications.size() >= maxRows
                        || (!classifications.isEmpty() && (long) (classifications.size() + 1) * width > limits.maxBatchTokens())) {
                    return;
                }
                classifyWidth = width;
                classifications.add(queue.pollFirst());
            }
        }
    }

    private Engine engine(DecoderModel model) {
        return engines.computeIfAbsent(model, Engine::new);
    }

    // ---- generation -----------------------------------------------------------------------------------------------

    /** Prefills the newcomers on their own, samples their first tokens, and merges the unfinished into the batch. */
    private void join(Engine engine, List<Sequence<T>> joining, List<Outcome<T>> done) {
        boolean fresh = rows.isEmpty();
        KvCache target = fresh ? engine.main : engine.scratch;
        int n = joining.size();
        int[][] prompts = new int[n][];
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            prompts[i] = joining.get(i).tokens;
            lengths[i] = joining.get(i).promptLength;
        }
        FloatBuffer logits;
        try {
            logits = prefill(engine, target, prompts, lengths, n, "prefill");
        } catch (OrtException | RuntimeException e) {
            for (Sequence<T> s : joining) {
                done.add(failure(s.task, s.startedMillis, s.startedNanos, e));
            }
            return;
        }
        int width = engine.prefill.lastWidth();
        long now = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Sequence<T> s = joining.get(i);
            s.accept(s.sampler.next(logits, engine.runner.logitsAt(i, width - 1), engine.vocab, engine.sampling));
            listener.onFirstToken(now - s.task.submitNanos());
        }
        listener.onTokens(n);
        if (fresh) {
            active = engine;
            rows = new ArrayList<>(joining);
            retire(done);
            return;
        }
        List<Sequence<T>> merged = new ArrayList<>(rows);
        KvCache[] sources = new KvCache[rows.size() + n];
        int[] sourceRows = new int[sources.length];
        int count = 0;
        for (int r = 0; r < rows.size(); r++) {
            sources[count] = engine.main;
            sourceRows[count++] = r;
        }
        for (int i = 0; i < n; i++) {
            Sequence<T> s = joining.get(i);
            if (s.finished()) {
                done.add(s.outcome());
            } else {
                merged.add(s);
                sources[count] = engine.scratch;
                sourceRows[count++] = i;
            }
        }
        if (count > rows.size()) {
            engine.main.gather(sources, sourceRows, count);
            rows = merged;
        }
    }

    /** One token for every running sequence. */
    private void decode(List<Outcome<T>> done) {
        Engine engine = active;
        long started = System.nanoTime();
        FloatBuffer logits;
        try {
            logits = engine.runner.forward(engine.main, 1, engine.decodeTokens, 1);
        } catch (OrtException | RuntimeException e) {
            for (Sequence<T> s : rows) {
                done.add(failure(s.task, s.startedMillis, s.startedNanos, e));
            }
            rows = new ArrayList<>();
            return;
        }
        reportForward("decode", engine.main, started);
        for (int r = 0; r < rows.size(); r++) {
            Sequence<T> s = rows.get(r);
            s.accept(s.sampler.next(logits, engine.runner.logitsAt(r, 0), engine.vocab, engine.sampling));
        }
        listener.onTokens(rows.size());
        retire(done);
    }

    /** Ends the finished sequences and rebuilds the cache without them. */
    private void retire(List<Outcome<T>> done) {
        List<Sequence<T>> keep = new ArrayList<>(rows.size());
        for (Sequence<T> s : rows) {
            if (s.finished()) {
                done.add(s.outcome());
            } else {
                keep.add(s);
            }
        }
        if (keep.size() != rows.size()) {
            regroup(keep);
        }
    }

    /** Keeps only {@code keep} (a subsequence of the rows) in the batch and its cache. */
    private void regroup(List<Sequence<T>> keep) {
        if (!keep.isEmpty()) {
            KvCache[] sources = new KvCache[keep.size()];
            int[] sourceRows = new int[keep.size()];
            int k = 0;
            for (int r = 0; r < rows.size() && k < keep.size(); r++) {
                if (rows.get(r) == keep.get(k)) {
                    sources[k] = active.main;
                    sourceRows[k++] = r;
                }
            }
            active.main.gather(sources, sourceRows, keep.size());
        }
        rows = keep;
    }

    // ---- classification -------------------------------------------------------------------------------------------

    /**
     * Scores every label of every task by its total log-probability after the prompt: the prompts are prefilled
     * together, the first label tokens are read off their last position, then the prompt caches are repeated once per
     * label and the remaining label tokens run in batches of rows.
     */
    private void classify(Engine engine, List<Task<T>> tasks, List<Outcome<T>> done) {
        long startedNanos = System.nanoTime();
        long startedMillis = System.currentTimeMillis();
        int n = tasks.size();
        int[][] prompts = new int[n][];
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            int[] p = tasks.get(i).promptIds();
            int keep = Math.min(p.length, tasks.get(i).promptBudget());
            prompts[i] = java.util.Arrays.copyOfRange(p, p.length - keep, p.length);
            lengths[i] = keep;
        }
        try {
            double[][] scores = new double[n][];
            FloatBuffer logits = prefill(engine, engine.scratch, prompts, lengths, n, "classify");
            int width = engine.prefill.lastWidth();
            List<int[]> pending = new ArrayList<>(); // {task, label} of labels with more than one token
            for (int i = 0; i < n; i++) {
                List<Task.Label> labels = tasks.get(i).labels();
                scores[i] = new double[labels.size()];
                int at = engine.runner.logitsAt(i, width - 1);
                double norm = logSumExp(logits, at, engine.vocab);
                for (int j = 0; j < labels.size(); j++) {
                    int[] ids = labels.get(j).ids();
                    scores[i][j] = logits.get(at + ids[0]) - norm;
                    if (ids.length > 1) {
                        pending.add(new int[] {i, j});
                    }
                }
            }
            scoreLabelTails(engine, tasks, pending, scores);
            long compute = System.nanoTime() - startedNanos;
            for (int i = 0; i < n; i++) {
                Classification c = classification(tasks.get(i).labels(), scores[i], lengths[i],
                        lengths[i] < tasks.get(i).promptIds().length);
                done.add(new Outcome<>(tasks.get(i), null, c, null, startedMillis, compute));
            }
        } catch (OrtException | RuntimeException e) {
            for (Task<T> t : tasks) {
                done.add(failure(t, startedMillis, startedNanos, e));
            }
        }
    }

    /** Adds the log-probabilities of every label token after the first, given the prompt and the earlier ones. */
    private void scoreLabelTails(Engine engine, List<Task<T>> tasks, List<int[]> pending, double[][] scores)
            throws OrtException {
        int from = 0;
        while (from < pending.size()) {
            int maxRows = maxRows(engine.runner.model()); // unpadded, one row at a time, without position ids
            int widest = 0;
            int to = from;
            while (to < pending.size() && to - from < maxRows) {
                int tail = label(tasks, pending.get(to)).length - 1;
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
                tails[r] = label(tasks, ref);
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
            reportForward("classify", engine.labels, started);
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

    private int[] label(List<Task<T>> tasks, int[] ref) {
        return tasks.get(ref[0]).labels().get(ref[1]).ids();
    }

    private static Classification classification(List<Task.Label> labels, double[] scores, int promptTokens,
                                                 boolean truncated) {
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
        return new Classification(labels.get(best).text(), probabilities, byLabel, promptTokens, truncated);
    }

    // ---- shared ---------------------------------------------------------------------------------------------------

    /**
     * Runs left-padded prompts through a fresh cache in column chunks that keep the logits within budget.
     *
     * @return the logits of the last chunk ({@code engine.prefill.lastWidth()} columns)
     */
    private FloatBuffer prefill(Engine engine, KvCache cache, int[][] prompts, int[] lengths, int n, String phase)
            throws OrtException {
        cache.reset(n);
        int width = 0;
        for (int i = 0; i < n; i++) {
            width = Math.max(width, lengths[i]);
        }
        int chunk = engine.runner.chunk(n, width);
        FloatBuffer logits = null;
        for (int start = 0; start < width; start += chunk) {
            long started = System.nanoTime();
            engine.prefill.set(prompts, lengths, width, start, Math.min(width, start + chunk));
            logits = engine.runner.forward(cache, engine.prefill.lastWidth(), engine.prefill, 1);
            reportForward(phase, cache, started);
        }
        return logits;
    }

    private void reportForward(String phase, KvCache cache, long started) {
        listener.onForward(phase, cache.rows(), (long) cache.rows() * cache.slots(), cache.paddingSlots(),
                System.nanoTime() - started);
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

    private Outcome<T> failure(Task<T> task, long startedMillis, long startedNanos, Exception e) {
        String reason = "inference failed on " + task.model().id() + ": " + e;
        return new Outcome<>(task, null, null, reason, startedMillis, System.nanoTime() - startedNanos);
    }

    private static void sleep(long nanos) {
        try {
            Thread.sleep(Math.max(1, nanos / 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** A model's runner, caches and scratch memory, kept between batches. */
    private final class Engine {
        final ModelRunner runner;
        final int vocab;
        /** the running batch */
        final KvCache main;
        /** newcomers' prefill, and the prompts of classifications */
        final KvCache scratch;
        /** a classification's label rows */
        final KvCache labels;
        final Sampler.Scratch sampling;
        final Prefill prefill = new Prefill();
        final ModelRunner.Tokens decodeTokens = new ModelRunner.Tokens() {
            @Override
            public int count(int row) {
                return 1;
            }

            @Override
            public int token(int row, int i) {
                return rows.get(row).last();
            }
        };

        Engine(DecoderModel model) {
            runner = new ModelRunner(model);
            vocab = model.vocabSize();
            main = runner.newCache();
            scratch = runner.newCache();
            labels = runner.newCache();
            sampling = new Sampler.Scratch(vocab);
        }
    }

    /** Columns {@code [start, end)} of prompts right-aligned in {@code width} columns. */
    private static final class Prefill implements ModelRunner.Tokens {
        private int[][] prompts;
        private int[] lengths;
        private int width;
        private int start;
        private int end;

        void set(int[][] prompts, int[] lengths, int width, int start, int end) {
            this.prompts = prompts;
            this.lengths = lengths;
            this.width = width;
            this.start = start;
            this.end = end;
        }

        int lastWidth() {
            return end - start;
        }

        @Override
        public int count(int row) {
            return Math.max(0, end - Math.max(start, width - lengths[row]));
        }

        @Override
        public int token(int row, int i) {
            int first = width - lengths[row];
            return prompts[row][Math.max(start, first) - first + i];
        }
    }
}
