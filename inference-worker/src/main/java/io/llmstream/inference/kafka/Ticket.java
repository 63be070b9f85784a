package io.llmstream.inference.kafka;

import io.llmstream.schemas.InferenceRequest;
import org.apache.kafka.common.TopicPartition;

/** A consumed request and where it came from: the engine carries it as a job's tag, back to the transaction. */
record Ticket(TopicPartition partition, long offset, InferenceRequest request, long timestamp) {}
