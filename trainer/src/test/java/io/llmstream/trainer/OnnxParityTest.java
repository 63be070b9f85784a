package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The exported graph in ONNX Runtime against the DJL forward pass of the same weights, for both architectures. */
class OnnxParityTest {

    private static final double TOLERANCE = 1e-4;

    @Test
    void randomWeightsTiedHead() throws Exception {
        GptConfig config = new GptConfig(61, 24, 2, 4, 32, 48, 0f, true);
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt model = scrambled(Gpt.create(config, manager, 7), manager);
            assertLeftPaddedBatchMatches(model, manager);
            assertCachedDecodingMatches(model, manager);
        }
    }

    @Test
    void randomWeightsSeparateHead() throws Exception {
        GptConfig config = new GptConfig(53, 24, 2, 2, 32, 64, 0f, false);
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt model = scrambled(Gpt.create(config, manager, 11), manager);
            assertLeftPaddedBatchMatches(model, manager);
            assertCachedDecodingMatches(model, manager);
        }
    }

    @Test
    void classificationHeadsLogitsFollowTheVocabularys() throws Exception {
        for (ModelConfig config : List.of(
                new GptConfig(53, 24, 2, 2, 32, 64, 0f, true).withClassLabels(List.of("a", "b", "c")),
                new LlamaConfig(53, 24, 2, 4, 2, 32, 64, 10000.0, 1e-6f, false, false).withClassLabels(List.of("x", "y")))) {
            try (NDManager manager = NDManager.newBaseManager()) {
                Decoder model = config.create(manager, 13);
                model.namedParameters().forEach(p -> p.parameter().getArray().addi(manager.randomNormal(0f, 0.3f,
                        p.parameter().getArray().getShape(), p.parameter().getArray().getDataType())));
                assertThat(model.outputWidth()).isEqualTo(53 + config.classLabels().size());
                assertLeftPaddedBatchMatches(model, manager);
                assertCachedDecodingMatches(model, manager);
            }
        }
    }

    @Test
    void tanhGeluAsGpt2CheckpointsUse() throws Exception {
        GptConfig config = new GptConfig(53, 24, 2, 2, 32, 64, 0f, true, true);
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt model = scrambled(Gpt.create(config, manager, 13), manager);
            assertLeftPaddedBatchMatches(model, manager);
            assertCachedDecodingMatches(model, manager);
        }
    }

    @Test
    void trainedWeights() throws Exception {
        assertTrainedMatches(new GptConfig(48, 24, 2, 4, 32, 64, 0.1f, true));
    }

    /** 30 steps on random windows: weights no initializer draws, dropout (GPT-2) off in the export. */
    private static void assertTrainedMatches(ModelConfig config) throws Exception {
        TrainingConfig training = TrainingConfig.builder().sequenceLength(16).batchSize(4).maxSteps(30)
                .learningRate(1e-2).warmupSteps(5).evalInterval(0).seed(4).build();
        int[] stream = randomTokens(600, config.vocabSize(), 12);
        try (Trainer trainer = new Trainer(config, training,
                new InMemoryWindowSource(TrainerLearningTest.windows(stream, 16, 5, "r"), true), null,
                TrainingListener.NONE);
             NDManager manager = NDManager.newBaseManager()) {
            trainer.train();
            assertLeftPaddedBatchMatches(trainer.model(), manager);
            assertCachedDecodingMatches(trainer.model(), manager);
        }
    }

    @Test
    void llamaWithGroupedQueryAttentionTiedHead() throws Exception {
        assertScrambledLlamaMatches(new LlamaConfig(61, 24, 2, 4, 2, 32, 48, 10000.0, 1e-6f, false, true), 7);
    }

    @Test
    void qwen2StyleBiasesSeparateHeadOtherTheta() throws Exception {
        assertScrambledLlamaMatches(new LlamaConfig(53, 24, 2, 4, 1, 32, 64, 500000.0, 1e-5f, true, false), 11);
    }

    private static void assertScrambledLlamaMatches(LlamaConfig config, long seed) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Decoder model = scrambled(Llama.create(config, manager, seed), manager);
            assertLeftPaddedBatchMatches(model, manager);
            assertCachedDecodingMatches(model, manager);
        }
    }

    @Test
    void trainedLlamaWeights() throws Exception {
        assertTrainedMatches(new LlamaConfig(48, 24, 2, 4, 2, 32, 64, 10000.0, 1e-6f, false, true));
    }

    /** One prefill of a left-padded batch: every real token's logits match; padded slots stay finite. */
    private static void assertLeftPaddedBatchMatches(Decoder model, NDManager manager) throws Exception {
        ModelConfig config = model.config();
        int[][] prompts = {randomTokens(7, config.vocabSize(), 1), randomTokens(12, config.vocabSize(), 2)};
        try (OrtDecoder ort = new OrtDecoder(OnnxExporter.export(model), config)) {
            float[][][] logits = ort.prefill(prompts);
            for (int r = 0; r < prompts.length; r++) {
                float[][] expected = djlLogits(model, manager, prompts[r]);
                int pad = logits[r].length - prompts[r].length;
                for (int s = 0; s < logits[r].length; s++) {
                    assertThat(allFinite(logits[r][s])).as("row %d slot %d finite", r, s).isTrue();
                    if (s >= pad) {
                        assertClose(logits[r][s], expected[s - pad], "row " + r + " token " + (s - pad));
                    }
                }
            }
        }
    }

    /** Prefill two different-length prompts, then feed tokens one at a time with the presents as pasts. */
    private static void assertCachedDecodingMatches(Decoder model, NDManager manager) throws Exception {
        ModelConfig config = model.config();
        int[][] sequences = {randomTokens(4, config.vocabSize(), 3), randomTokens(9, config.vocabSize(), 4)};
        int steps = 8;
        int[][] continuations = {randomTokens(steps, config.vocabSize(), 5), randomTokens(steps, config.vocabSize(), 6)};
        try (OrtDecoder ort = new OrtDecoder(OnnxExporter.export(model), config)) {
            float[][][] prefill = ort.prefill(sequences);
            for (int r = 0; r < sequences.length; r++) {
                float[][] expected = djlLogits(model, manager, sequences[r]);
                float[] lastSlot = prefill[r][prefill[r].length - 1];
                assertClose(lastSlot, expected[expected.length - 1], "prefill row " + r);
            }
            for (int step = 0; step < steps; step++) {
                int[] tokens = {continuations[0][step], continuations[1][step]};
                float[][] logits = ort.next(tokens);
                for (int r = 0; r < sequences.length; r++) {
                    sequences[r] = append(sequences[r], tokens[r]);
                    float[][] expected = djlLogits(model, manager, sequences[r]);
                    assertClose(logits[r], expected[expected.length - 1], "step " + step + " row " + r);
                }
            }
        }
    }

    private static float[][] djlLogits(Decoder model, NDManager manager, int[] tokens) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = scope.create(tokens).reshape(1, tokens.length);
            float[] flat = model.logits(ids).toFloatArray();
            int v = model.outputWidth();
            float[][] out = new float[tokens.length][v];
            for (int t = 0; t < tokens.length; t++) {
                System.arraycopy(flat, t * v, out[t], 0, v);
            }
            return out;
        }
    }

    private static void assertClose(float[] actual, float[] expected, String what) {
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
        }
        assertThat(maxDiff).as("max |onnx - djl| at %s", what).isLessThan(TOLERANCE);
    }

    /**
     * Random weights of order one everywhere, LayerNorm gains and biases included, so every parameter and every
     * code path visibly moves the logits (GPT-2's 0.02 initialisation leaves logits near zero).
     */
    private static <M extends Decoder> M scrambled(M model, NDManager manager) {
        for (NamedParameter p : model.namedParameters()) {
            NDArray w = p.parameter().getArray();
            w.addi(manager.randomNormal(0f, 0.3f, w.getShape(), w.getDataType()));
        }
        return model;
    }

    private static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    static int[] randomTokens(int n, int vocab, long seed) {
        return new Random(seed).ints(n, 0, vocab).toArray();
    }

    private static int[] append(int[] a, int x) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = x;
        return out;
    }
}
