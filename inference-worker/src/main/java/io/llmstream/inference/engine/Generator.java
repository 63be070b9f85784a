package io.llmstream.inference.engine;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.KvCache;
import io.llmstream.inference.model.ModelRunner;

import ai.onnxruntime.OrtException;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/** Generation and classification without a stream: for the command line, tests and benchmarks. */
public final class Generator {

    private Generator() {}

    /** One generation on its own. */
    public static Generation generate(DecoderModel model, int[] promptIds, Sampling sampling) {
        return generateAll(model, List.of(promptIds), List.of(sampling), BatchLimits.of(1)).get(0);
    }

    /** Generations batched by the {@link Scheduler} (continuous batching); results in the order of the prompts. */
    public static List<Generation> generateAll(DecoderModel model, List<int[]> promptIds, List<Sampling> sampling,
                                               BatchLimits limits) {
        if (promptIds.size() != sampling.size()) {
            throw new IllegalArgumentException(promptIds.size() + " prompts but " + sampling.size() + " settings");
        }
        Scheduler<Integer> scheduler = new Scheduler<>(limits, InferenceListener.NONE);
        for (int i = 0; i < promptIds.size(); i++) {
            scheduler.submit(Job.generate(i, model, promptIds.get(i), sampling.get(i)));
        }
        Generation[] out = new Generation[promptIds.size()];
        for (Outcome<Integer> o : scheduler.drain()) {
            out[o.job().tag()] = require(o).generation();
        }
        return Arrays.asList(out);
    }

    /** One classification on its own. */
    public static Classification classify(DecoderModel model, int[] promptIds, List<String> labels) {
        Scheduler<Integer> scheduler = new Scheduler<>(BatchLimits.of(1), InferenceListener.NONE);
        scheduler.submit(Job.classify(0, model, promptIds, labels));
        return require(scheduler.drain().get(0)).classification();
    }

    /**
     * The reference loop without a KV cache: every step runs the whole sequence so far through the model and samples
     * from the last position. Slow by design (the benchmark's baseline, the tests' ground truth); the prompt is cut on
     * the left like the scheduler's.
     */
    public static Generation generateWithoutCache(DecoderModel model, int[] promptIds, Sampling sampling) {
        Job<Void> job = Job.generate(null, model, promptIds, sampling);
        Sequence<Void> sequence = new Sequence<>(job);
        ModelRunner runner = new ModelRunner(model);
        KvCache cache = runner.newCache();
        Sampler.Scratch scratch = new Sampler.Scratch(model.vocabSize());
        int[] length = new int[1];
        ModelRunner.Tokens all = new ModelRunner.Tokens() {
            @Override
            public int count(int row) {
                return length[0];
            }

            @Override
            public int token(int row, int i) {
                return sequence.tokens[i];
            }
        };
        try {
            do {
                length[0] = sequence.promptLength + sequence.generated();
                cache.reset(1);
                FloatBuffer logits = runner.forward(cache, length[0], all, 1);
                int id = sequence.sampler.next(logits, runner.logitsAt(0, length[0] - 1), model.vocabSize(),
                        scratch);
                sequence.accept(id);
            } while (!sequence.finished());
        } catch (OrtException e) {
            throw new IllegalStateException("inference failed on " + model.id() + ": " + e.getMessage(), e);
        }
        return sequence.outcome().generation();
    }

    private static <T> Outcome<T> require(Outcome<T> outcome) {
        if (!outcome.ok()) {
            throw new IllegalStateException(outcome.error());
        }
        return outcome;
    }
}
