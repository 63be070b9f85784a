/**
 * The inference worker. Its packages are layered, each using only those before it:
 * {@code graph} (serving edits of an ONNX graph), {@code model} (a loaded model and its forward pass),
 * {@code engine} (batching, generation, classification) and {@code kafka} (the transactional loop);
 * {@link io.llmstream.inference.InferenceWorkerApp} starts it.
 */
package io.llmstream.inference;
