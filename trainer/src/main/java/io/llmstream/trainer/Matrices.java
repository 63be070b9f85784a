package io.llmstream.trainer;

/** Row-major float matrices as the exporters write them. */
public final class Matrices {

    private Matrices() {}

    /** A row-major (rows, cols) matrix as (cols, rows). */
    public static float[] transpose(float[] data, int rows, int cols) {
        float[] out = new float[data.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = data[r * cols + c];
            }
        }
        return out;
    }
}
