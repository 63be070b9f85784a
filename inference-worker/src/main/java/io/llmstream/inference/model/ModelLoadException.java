package io.llmstream.inference.model;

/** A model directory that cannot be served: missing or altered files, an unsupported graph or tokenizer. */
public final class ModelLoadException extends RuntimeException {

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
