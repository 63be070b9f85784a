package io.llmstream.stream;

import java.util.Map;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Kafka Streams' log-and-continue handlers, which send the failed record to the built-in dead-letter topic
 * ({@code errors.dead.letter.queue.topic.name}), plus a count of what they sent. The metrics object reaches them through
 * the streams config under {@link #METRICS_CONFIG}.
 */
public final class DeadLetterHandlers {
    public static final String METRICS_CONFIG = "llmstream.stream.metrics";

    private DeadLetterHandlers() {}

    private static StreamMetrics metrics(Map<String, ?> configs) {
        Object m = configs.get(METRICS_CONFIG);
        return m instanceof StreamMetrics sm ? sm : null;
    }

    /** Bytes that are not Avro of a known schema. */
    public static final class Deserialization extends LogAndContinueExceptionHandler {
        private StreamMetrics metrics;

        @Override
        public void configure(Map<String, ?> configs) {
            super.configure(configs);
            metrics = metrics(configs);
        }

        @Override
        public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception e) {
            if (metrics != null) {
                metrics.deadLetters.increment();
            }
            return super.handleError(context, record, e);
        }
    }

    /** Documents refused by a processor (too large, empty) and any other processing failure. */
    public static final class Processing extends LogAndContinueProcessingExceptionHandler {
        private StreamMetrics metrics;

        @Override
        public void configure(Map<String, ?> configs) {
            super.configure(configs);
            metrics = metrics(configs);
        }

        @Override
        public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception e) {
            if (metrics != null) {
                metrics.deadLetters.increment();
            }
            return super.handleError(context, record, e);
        }
    }

    /**
     * An output record the broker refuses as too large: the source document goes to the dead-letter topic instead of
     * stopping the application in a crash loop. Every other production failure stops it (the default), since losing
     * output silently is worse.
     */
    public static final class Production extends DefaultProductionExceptionHandler {
        private StreamMetrics metrics;
        private String deadLetterTopic;

        @Override
        public void configure(Map<String, ?> configs) {
            super.configure(configs);
            metrics = metrics(configs);
            Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
            deadLetterTopic = topic == null ? null : topic.toString();
        }

        @Override
        public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception e) {
            if (e instanceof RecordTooLargeException && deadLetterTopic != null) {
                if (metrics != null) {
                    metrics.deadLetters.increment();
                }
                return Response.resume(List.of(ExceptionHandlerUtils.buildDeadLetterQueueRecord(deadLetterTopic,
                        context.sourceRawKey(), context.sourceRawValue(), context, e)));
            }
            return super.handleError(context, record, e);
        }
    }
}
