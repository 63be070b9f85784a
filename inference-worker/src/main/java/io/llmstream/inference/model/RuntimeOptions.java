package io.llmstream.inference.model;

import java.util.Objects;

/**
 * How a model directory is opened: which of its graphs, on which provider, with how many threads.
 *
 * @param provider       the execution provider asked for; CUDA falls back to CPU (with a warning) when it cannot start
 * @param deviceId       the CUDA device; ignored on CPU
 * @param intraOpThreads threads one operator may use; 1 suits small shared machines, where more threads contend
 * @param variant        the graph variant to serve ({@code fp32} for {@code model.onnx}, else {@code model_<variant>.onnx},
 *                       as onnx-community repositories name them); null or empty: see {@link GraphFiles}
 */
public record RuntimeOptions(ExecutionProvider provider, int deviceId, int intraOpThreads, String variant) {

    public RuntimeOptions {
        Objects.requireNonNull(provider, "provider");
        if (deviceId < 0) {
            throw new IllegalArgumentException("deviceId must not be negative: " + deviceId);
        }
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be at least 1: " + intraOpThreads);
        }
    }

    /** The directory's default graph. */
    public RuntimeOptions(ExecutionProvider provider, int deviceId, int intraOpThreads) {
        this(provider, deviceId, intraOpThreads, null);
    }

    /** CPU with one intra-op thread, the default graph. */
    public static RuntimeOptions cpu() {
        return new RuntimeOptions(ExecutionProvider.CPU, 0, 1);
    }

    /** The same with another graph variant. */
    public RuntimeOptions withVariant(String variant) {
        return new RuntimeOptions(provider, deviceId, intraOpThreads, variant);
    }
}
