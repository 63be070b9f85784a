package io.llmstream.inference.model;

import io.llmstream.inference.graph.ServingGraph;

import ai.onnxruntime.OrtException;

import java.nio.FloatBuffer;

/**
 * A load-time check of a serving variant ({@link ServingGraph}): two rows of different tokens must get in one batch
 * the logits each gets alone, and a decode step must follow. The rows are of one length, so that a graph which
 * cannot take left padding (no {@code position_ids}) still passes. An edit whose shape rule does not hold
 * for this graph either fails to run or, where ONNX Runtime broadcasts one row over the others
 * (SkipLayerNormalization repeats a smaller input), breaks that equality.
 */
final class BatchProbe {

    /** Logits of one row may differ this much, relative to their largest magnitude, between batch and alone. */
    private static final float TOLERANCE = 1e-3f;

    private BatchProbe() {}

    /** @throws IllegalStateException when a row's logits in the batch are not its logits alone */
    static void check(DecoderModel model) throws OrtException {
        ModelRunner runner = new ModelRunner(model);
        int vocab = runner.vocab();
        int[][] rows = model.contextLength() > 2
                ? new int[][] {{1 % vocab, 2 % vocab}, {3 % vocab, 4 % vocab}}
                : new int[][] {{1 % vocab}, {3 % vocab}};
        KvCache cache = runner.newCache();
        float[][] together = prefill(runner, cache, rows);
        for (int r = 0; r < rows.length; r++) {
            float[] alone = prefill(runner, runner.newCache(), new int[][] {rows[r]})[0];
            float scale = 0;
            float worst = 0;
            for (int i = 0; i < vocab; i++) {
                scale = Math.max(scale, Math.abs(alone[i]));
                worst = Math.max(worst, Math.abs(alone[i] - together[r][i]));
            }
            if (!(worst <= TOLERANCE * Math.max(1f, scale))) {
                throw new IllegalStateException("row " + r + " of a batch of two gets other logits than alone (off by "
                        + worst + ")");
            }
        }
        runner.forward(cache, 1, ModelRunner.Tokens.of(new int[][] {{0}, {0}}), 1);
    }

    /** The last column's logits of each row after a prefill of {@code rows} into {@code cache}, emptied first. */
    private static float[][] prefill(ModelRunner runner, KvCache cache, int[][] rows) throws OrtException {
        int width = 0;
        for (int[] r : rows) {
            width = Math.max(width, r.length);
        }
        cache.reset(rows.length);
        FloatBuffer logits = runner.forward(cache, width, ModelRunner.Tokens.of(rows), 1);
        float[][] out = new float[rows.length][runner.vocab()];
        for (int r = 0; r < rows.length; r++) {
            logits.get(runner.logitsAt(r, width - 1), out[r], 0, out[r].length);
        }
        return out;
    }
}
