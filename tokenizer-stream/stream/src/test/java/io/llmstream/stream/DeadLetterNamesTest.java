package io.llmstream.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.ops.DeadLetters;
import org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils;
import org.junit.jupiter.api.Test;

/** The trainer's and the worker's dead letters carry the same header names as the ones Kafka Streams writes here. */
class DeadLetterNamesTest {

    @Test
    void ourHeaderNamesAreKafkaStreamsOwn() {
        assertThat(DeadLetters.EXCEPTION).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_EXCEPTION_NAME);
        assertThat(DeadLetters.MESSAGE).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_EXCEPTION_MESSAGE_NAME);
        assertThat(DeadLetters.STACKTRACE).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_STACKTRACE_NAME);
        assertThat(DeadLetters.TOPIC).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_TOPIC_NAME);
        assertThat(DeadLetters.PARTITION).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_PARTITION_NAME);
        assertThat(DeadLetters.OFFSET).isEqualTo(ExceptionHandlerUtils.HEADER_ERRORS_OFFSET_NAME);
    }
}
