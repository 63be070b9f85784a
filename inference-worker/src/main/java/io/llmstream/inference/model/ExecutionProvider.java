package io.llmstream.inference.model;

import java.util.Locale;

/** Where ONNX Runtime runs the model. */
public enum ExecutionProvider {
    CPU,
    /** NVIDIA GPU through ONNX Runtime's CUDA provider (the {@code onnxruntime_gpu} build, CUDA 12 and cuDNN 9). */
    CUDA;

    /** {@code cpu} or {@code cuda}, any case. */
    public static ExecutionProvider parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown execution provider '" + text + "' (expected cpu or cuda)");
        }
    }

    /** The lower-case name used in settings and metrics. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
