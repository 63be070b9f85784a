/**
 * The engine: the {@link io.llmstream.inference.engine.Scheduler} batches
 * {@link io.llmstream.inference.engine.Job}s of generation and classification onto their models with continuous
 * batching, and reports each as an {@link io.llmstream.inference.engine.Outcome}. No Kafka here.
 */
package io.llmstream.inference.engine;
