/**
 * A model directory loaded into an ONNX Runtime session ({@link io.llmstream.inference.model.ModelLoader},
 * {@link io.llmstream.inference.model.DecoderModel}), the loaded versions by name
 * ({@link io.llmstream.inference.model.ModelCatalog}), and one forward pass over a KV cache
 * ({@link io.llmstream.inference.model.ModelRunner}, {@link io.llmstream.inference.model.KvCache}).
 */
package io.llmstream.inference.model;
