package io.llmstream.inference.engine;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.KvCache;
import io.llmstream.inference.model.ModelRunner;

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
 * Batches jobs onto their models with continuous batching. Generations decode together, one token per sequence per
 * {@link #step}; between steps finished sequences leave (the cache is rebuilt without them) and waiting ones join:
 * their prompts are prefilled on their own, left-padded, then their caches are merged with the running batch's,
 * right-aligned, so a long generation does not hold short ones back. Classifications run between decode steps
 * ({@link LabelScorer}); each model's runner and caches are kept between batches ({@link ModelEngine}).
 *
 * <p>Batches hold one model. Jobs are taken in submission order; a job for another model than the running batch's
 * waits until that batch drains (then its model's batch starts), so a steady stream for one model cannot starve
 * another. An idle scheduler waits up to {@link BatchLimits#maxWait()} for a fuller first batch.
 *
 * <p>A failing forward pass fails the jobs in it (their outcomes carry the error), never the scheduler. Not
 * thread-safe: one thread submits and steps.
 */
public final class Scheduler<T> {

    private final BatchLimits limits;
    private final InferenceListener listener;
    private final ArrayDeque<Job<T>> queue = new ArrayDeque<>();
    private final LabelScorer labelScorer;
    private final Map<DecoderModel, ModelEngine> engines = new LinkedHashMap<>();
    private List<Sequence<T>> rows = new ArrayList<>();
    private ModelEngine active;
    /** The running rows' last tokens, the input of a decode step. */
    private final ModelRunner.Tokens decodeTokens = new ModelRunner.Tokens() {
        @Override
        public int count(int row) {
            return 1;
        }

        @Override
        public int token(int row, int i) {
            return rows.get(row).last();
        }
    };

    public Scheduler(BatchLimits limits, InferenceListener listener) {
        this.limits = limits;
        this.listener = listener;
        this.labelScorer = new LabelScorer(limits);
    }

    public void submit(Job<T> job) {
        queue.addLast(job);
    }

    /** Jobs waiting to start. */
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

    /** Whether a job for {@code model} is waiting or running. */
    public boolean uses(DecoderModel model) {
        return (active != null && active.model() == model && !rows.isEmpty())
                || queue.stream().anyMatch(t -> t.model() == model);
    }

    /** Drops the buffers kept for a model that will not come back (after it is unloaded). */
    public void forget(DecoderModel model) {
        if (uses(model)) {
            throw new IllegalStateException(model.id() + " still has jobs");
        }
        engines.remove(model);
        if (active != null && active.model() == model) {
            active = null;
        }
    }

    /**
     * Nanoseconds until {@link #step} has work: 0 when a batch runs or a first batch is due, the rest of
     * {@code maxWait} while an idle scheduler waits for more jobs, {@link Long#MAX_VALUE} when there are none.
     */
    public long nanosUntilReady() {
        if (!rows.isEmpty()) {
            return 0;
        }
        Job<T> head = queue.peekFirst();
        if (head == null) {
            return Long.MAX_VALUE;
        }
        int maxRows = limits.maxRows(head.model());
        boolean equalLengths = limits.equalLengths(head.model());
        int headLength = Math.min(head.promptIds().length, head.promptBudget());
        int count = 0;
        int width = 0;
        for (Job<T> t : queue) {
            int length = Math.min(t.promptIds().length, t.promptBudget());
            if (t.model() != head.model() || (equalLengths && length != headLength)) {
                return 0; // someone else waits behind this batch: no reason to delay it
            }
            count++;
            width = Math.max(width, length);
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
     * @return the jobs that ended in this step
     */
    public List<Outcome<T>> step() {
        List<Outcome<T>> done = new ArrayList<>();
        if (nanosUntilReady() > 0) {
            return done;
        }
        ModelEngine engine = rows.isEmpty() ? engine(queue.peekFirst().model()) : active;
        List<Job<T>> classifications = new ArrayList<>();
        List<Sequence<T>> joining = new ArrayList<>();
        take(engine, classifications, joining);
        if (!classifications.isEmpty()) {
            labelScorer.classify(engine, classifications, done);
        }
        if (!joining.isEmpty()) {
            join(engine, joining, done);
        }
        if (!rows.isEmpty()) {
            decode(done);
        }
        return done;
    }

    /** Steps until every submitted job has ended, ignoring {@code maxWait}; for callers without a stream. */
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
     * Removes the waiting and running jobs whose tag matches, without outcomes (e.g. those of partitions this worker
     * no longer owns); the running batch continues with the rest.
     *
     * @return the jobs removed
     */
    public List<Job<T>> cancel(Predicate<T> which) {
        List<Job<T>> cancelled = new ArrayList<>();
        for (Iterator<Job<T>> it = queue.iterator(); it.hasNext(); ) {
            Job<T> t = it.next();
            if (which.test(t.tag())) {
                cancelled.add(t);
                it.remove();
            }
        }
        List<Sequence<T>> keep = new ArrayList<>();
        for (Sequence<T> s : rows) {
            if (which.test(s.job.tag())) {
                cancelled.add(s.job);
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

    /** Takes the leading jobs for the engine's model that fit: classifications, and generations that can join. */
    private void take(ModelEngine engine, List<Job<T>> classifications, List<Sequence<T>> joining) {
        DecoderModel model = engine.model();
        int maxRows = limits.maxRows(model);
        boolean equalLengths = limits.equalLengths(model);
        int classifyWidth = 0;
        int joinWidth = 0;
        while (!queue.isEmpty() && queue.peekFirst().model() == model) {
            Job<T> t = queue.peekFirst();
            int length = Math.min(t.promptIds().length, t.promptBudget());
            if (t.isGeneration()) {
                int width = Math.max(joinWidth, length);
                if (rows.size() + joining.size() >= maxRows
                        || (!joining.isEmpty() && (long) (joining.size() + 1) * width > limits.maxBatchTokens())
                        || (equalLengths && (!rows.isEmpty() || (!joining.isEmpty() && length != joinWidth)))) {
                    return;
                }
                joinWidth = width;
                joining.add(new Sequence<>(queue.pollFirst()));
            } else {
                int width = Math.max(classifyWidth, length);
                if (classifications.size() >= maxRows
                        || (!classifications.isEmpty() && (long) (classifications.size() + 1) * width > limits.maxBatchTokens())
                        || (equalLengths && !classifications.isEmpty() && length != classifyWidth)) {
                    return;
                }
                classifyWidth = width;
                classifications.add(queue.pollFirst());
            }
        }
    }

    private ModelEngine engine(DecoderModel model) {
        return engines.computeIfAbsent(model, m -> new ModelEngine(m, listener));
    }

    // ---- generation -----------------------------------------------------------------------------------------------

    /** Prefills the newcomers on their own, samples their first tokens, and merges the unfinished into the batch. */
    private void join(ModelEngine engine, List<Sequence<T>> joining, List<Outcome<T>> done) {
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
            logits = engine.prefill(target, prompts, lengths, n, "prefill");
        } catch (OrtException | RuntimeException e) {
            for (Sequence<T> s : joining) {
                done.add(Outcome.failed(s.job, s.startedMillis, s.startedNanos, e));
            }
            return;
        }
        int width = engine.lastPrefillWidth();
        long now = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Sequence<T> s = joining.get(i);
            s.accept(s.sampler.next(logits, engine.runner.logitsAt(i, width - 1), engine.vocab, engine.sampling));
            listener.onFirstToken(now - s.job.submitNanos());
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
        ModelEngine engine = active;
        long started = System.nanoTime();
        FloatBuffer logits;
        try {
            logits = engine.runner.forward(engine.main, 1, decodeTokens, 1);
        } catch (OrtException | RuntimeException e) {
            for (Sequence<T> s : rows) {
                done.add(Outcome.failed(s.job, s.startedMillis, s.startedNanos, e));
            }
            rows = new ArrayList<>();
            return;
        }
        engine.reportForward("decode", engine.main, started);
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

    // ---- plumbing -------------------------------------------------------------------------------------------------

    private static void sleep(long nanos) {
        try {
            Thread.sleep(Math.max(1, nanos / 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
