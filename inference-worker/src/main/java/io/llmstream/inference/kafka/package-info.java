/**
 * The worker's Kafka side: requests in, exactly one result per request out in transactions with the consumed offsets,
 * newly published model versions loaded in the background.
 */
package io.llmstream.inference.kafka;
