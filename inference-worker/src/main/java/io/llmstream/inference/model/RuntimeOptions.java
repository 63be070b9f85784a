package io.llmstream.inference.model;

import java.util.Objects;

/**
 * How a model's ONNX Runtime session is built.
 *
 * @param provider       the execution provider asked for; CUDA falls back to CPU (with a warning) when it cannot start
 * @param deviceId       the CUDA device; ignored on CPU
 * @param intraOpThreads threads one operator may use; 1 suits small shared machines, where more threads contend
 */
public record RuntimeOptions(ExecutionProvider provider, int deviceId, int intraOpThreads) {

    public RuntimeOptions {
        Objects.requireNonNull(provider, "provider");
        if (deviceId < 0) {
            throw new IllegalArgumentException("deviceId must not be negative: " + deviceId);
        }
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be at least 1: " + intraOpThreads);
        }
    }

    /** CPU with one intra-op thread. */
    public static RuntimeOptions cpu() {
        return new RuntimeOptions(ExecutionProvider.CPU, 0, 1);
    }
}
