package io.llmstream.bench;

import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.InMemoryWindowSource;
import io.llmstream.trainer.LlamaConfig;
import io.llmstream.trainer.ModelConfig;
import io.llmstream.trainer.Trainer;
import io.llmstream.trainer.TrainingConfig;
import io.llmstream.trainer.TrainingListener;
import io.llmstream.trainer.Window;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training throughput on this machine: tokens per second and model FLOPs utilisation (MFU), the model's training FLOPs
 * per second over the float32 matmul rate the engine reaches in the same run. Not a test; {@code llmstream bench train}
 * prints it.
 */
public final class TrainerBenchmark {

    /**
     * @param name            which model
     * @param parameters      trainable parameters
     * @param tokensPerStep   ids per optimizer step
     * @param tokensPerSecond training throughput
     * @param modelGflops     training FLOPs per second, by the 6N + 12 L T d per token estimate (PaLM, nanoGPT)
     * @param matmulGflops    a square float32 matmul's rate in the same run
     * @param mfu             modelGflops / matmulGflops
     */
    public record Result(String name, long parameters, long tokensPerStep, double tokensPerSecond, double modelGflops,
                         double matmulGflops, double mfu) {

        /** The figures by name, in a stable order (for JSON and tables). */
        public Map<String, Object> figures() {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("parameters", parameters);
            figures.put("tokensPerStep", tokensPerStep);
            figures.put("tokensPerSecond", tokensPerSecond);
            figures.put("modelGflops", modelGflops);
            figures.put("matmulGflops", matmulGflops);
            figures.put("mfu", mfu);
            return figures;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainerBenchmark() {}

    /**
     * One line of JSON for scripts ({@code llmstream bench train --json}): each model's {@link Result#figures()} under
     * its name, e.g. {@code {"tiny-2x64":{"parameters":..,"tokensPerSecond":..,"matmulGflops":..,"mfu":..},..}}.
     */
    public static String toJson(List<Result> results) {
        Map<String, Object> byName = new LinkedHashMap<>();
        results.forEach(r -> byName.put(r.name(), r.figures()));
        try {
            return JSON.writeValueAsString(byName);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("numbers and strings always serialize", e);
        }
    }

    /**
     * A tiny model and a ~10M-parameter one of each architecture, byte vocabulary, tied embeddings; the Llama MLP is
     * as wide in parameters as GPT-2's (3 matrices of d x 8d/3 against 2 of d x 4d), its attention full multi-head.
     */
    public static List<Result> run() throws IOException {
        double matmul = matmulGflops(512, 20);
        List<Result> results = new ArrayList<>();
        results.add(measure("gpt2-tiny-2x64", new GptConfig(256, 64, 2, 4, 64, 256, 0f, true), 8, 30, 60, matmul));
        results.add(measure("llama-tiny-2x64", new LlamaConfig(256, 64, 2, 4, 4, 64, 172, 10_000, 1e-5f, false, true),
                8, 30, 60, matmul));
        results.add(measure("gpt2-10M-6x384", new GptConfig(256, 128, 6, 6, 384, 1536, 0f, true), 4, 5, 10, matmul));
        results.add(measure("llama-10M-6x384", new LlamaConfig(256, 128, 6, 6, 6, 384, 1024, 10_000, 1e-5f, false,
                true), 4, 5, 10, matmul));
        return results;
    }

    /** GFLOP/s of an n x n float32 matmul, best of {@code repeats}. */
    public static double matmulGflops(int n, int repeats) {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.randomNormal(new Shape(n, n));
            NDArray b = manager.randomNormal(new Shape(n, n));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats + 1; i++) {
                long start = System.nanoTime();
                try (NDArray product = a.matMul(b)) { // CPU ops return when done
                    long nanos = System.nanoTime() - start;
                    if (i > 0) {
                        best = Math.min(best, nanos); // the first round warms up
                    }
                }
            }
            return 2.0 * n * n * n / best;
        }
    }

    /** Untimed training before the timed steps: at least this long, and at least the given number of steps. */
    static final double WARM_UP_SECONDS = 3;

    /**
     * Trains {@code steps} steps on random windows and times them, after untimed ones (at least {@code warmUpSteps} and
     * {@value #WARM_UP_SECONDS} s) in which the JIT compiles the loop and libtorch sizes its buffers: on two cores the
     * JIT's compiler threads take time from the first seconds of training, which a run of hours never sees again.
     */
    public static Result measure(String name, ModelConfig model, int batchSize, int warmUpSteps, int steps,
                                 double matmulGflops) throws IOException {
        int t = model.contextLength();
        TrainingConfig training = TrainingConfig.builder().sequenceLength(t).batchSize(batchSize)
                .maxSteps(Integer.MAX_VALUE) // the warm-up's length is known only as it runs; the rate barely decays
                .warmupSteps(1).evalInterval(0).build();
        SplittableRandom random = new SplittableRandom(1);
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < batchSize * 4; i++) {
            windows.add(new Window(random.ints(t + 1, 0, model.vocabSize()).toArray(), Window.Split.TRAIN, "random-" + i));
        }
        try (Trainer trainer = new Trainer(model, training, new InMemoryWindowSource(windows, true), null,
                TrainingListener.NONE)) {
            long warmUpEnd = System.nanoTime() + (long) (WARM_UP_SECONDS * 1e9);
            for (int i = 0; i < warmUpSteps || System.nanoTime() < warmUpEnd; i++) {
                trainer.trainStep().orElseThrow();
            }
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                trainer.trainStep().orElseThrow();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double tokensPerSecond = training.tokensPerStep() * steps / seconds;
            double flopsPerToken = 6.0 * model.matmulParameters() + 12.0 * model.layers() * t * model.dModel();
            double modelGflops = flopsPerToken * tokensPerSecond / 1e9;
            return new Result(name, model.parameterCount(), training.tokensPerStep(), tokensPerSecond, modelGflops,
                    matmulGflops, modelGflops / matmulGflops);
        }
    }
}
