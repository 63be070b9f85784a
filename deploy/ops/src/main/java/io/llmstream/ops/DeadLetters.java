package io.llmstream.ops;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The dead-letter record format every component writes: the failed record's raw key, value, timestamp and headers,
 * plus {@code __streams.errors.*} headers saying what failed and where. The names are those of Kafka Streams' built-in
 * dead-letter queue (KIP-1034), which the stream app uses as it is, so one reader handles the letters of all three
 * components; the stream module's tests check the names against Kafka Streams' own.
 */
public final class DeadLetters {
    public static final String PREFIX = "__streams.errors.";
    public static final String EXCEPTION = PREFIX + "exception";
    public static final String MESSAGE = PREFIX + "message";
    public static final String STACKTRACE = PREFIX + "stacktrace";
    public static final String TOPIC = PREFIX + "topic";
    public static final String PARTITION = PREFIX + "partition";
    public static final String OFFSET = PREFIX + "offset";

    private DeadLetters() {}

    /** The letter for {@code failed}, which could not be processed because of {@code error}, bound for {@code topic}. */
    public static ProducerRecord<byte[], byte[]> of(String topic, ConsumerRecord<byte[], byte[]> failed, Exception error) {
        // A record without a timestamp (-1) gets the time of sending, as ProducerRecord refuses negative ones.
        Long timestamp = failed.timestamp() >= 0 ? failed.timestamp() : null;
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(topic, null, timestamp, failed.key(), failed.value());
        Headers headers = letter.headers();
        for (Header h : failed.headers()) {
            headers.add(h);
        }
        StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        add(headers, EXCEPTION, error.getClass().getName());
        add(headers, MESSAGE, String.valueOf(error.getMessage()));
        add(headers, STACKTRACE, trace.toString());
        add(headers, TOPIC, failed.topic());
        add(headers, PARTITION, String.valueOf(failed.partition()));
        add(headers, OFFSET, String.valueOf(failed.offset()));
        return letter;
    }

    private static void add(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
