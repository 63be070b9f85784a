/**
 * Serving edits of a decoder's ONNX graph, made at load time and checked against the file's logits: float16 computed
 * in float32 on the CPU, logits for the kept positions only, the position cut moved up to the last attention, fused
 * LayerNorms and attention.
 * Pure protobuf: no ONNX Runtime session here.
 */
package io.llmstream.inference.graph;
