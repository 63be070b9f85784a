package io.llmstream.inference.engine;

import io.llmstream.schemas.FinishReason;

import java.util.Arrays;

/**
 * One generation in flight: its prompt (cut on the left to fit), then the ids generated so far, in one array sized for
 * the whole generation up front. While it runs, the cache holds all its ids but the last.
 */
final class Sequence<T> {

    final Job<T> job;
    final int[] tokens;
    final int promptLength;
    final boolean truncated;
    final Sampler sampler;
    final long startedNanos = System.nanoTime();
    final long startedMillis = System.currentTimeMillis();
    private int length;
    private FinishReason finish;

    Sequence(Job<T> job) {
        this.job = job;
        int[] prompt = job.promptIds();
        int keep = Math.min(prompt.length, job.promptBudget());
        this.tokens = new int[keep + job.sampling().maxNewTokens()];
        System.arraycopy(prompt, prompt.length - keep, tokens, 0, keep);
        this.promptLength = keep;
        this.truncated = keep < prompt.length;
        this.length = keep;
        this.sampler = new Sampler(job.sampling());
    }

    int last() {
        return tokens[length - 1];
    }

    /** Takes the next sampled id: EOS or a stop id end the sequence, any other id is appended. */
    boolean accept(int id) {
        if (job.model().isEos(id)) {
            finish = FinishReason.EOS;
        } else if (job.sampling().isStop(id)) {
            finish = FinishReason.STOP;
        } else {
            tokens[length++] = id;
            if (length == tokens.length) {
                finish = FinishReason.LENGTH;
            }
        }
        return finish != null;
    }

    boolean finished() {
        return finish != null;
    }

    int generated() {
        return length - promptLength;
    }

    Outcome<T> outcome() {
        int[] output = Arrays.copyOfRange(tokens, promptLength, length);
        Generation g = new Generation(output, job.model().tokenizer().decode(output), finish, promptLength, truncated);
        return new Outcome<>(job, g, null, null, startedMillis, System.nanoTime() - startedNanos);
    }
}
