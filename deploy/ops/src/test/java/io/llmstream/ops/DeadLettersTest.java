package io.llmstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

    @Test
    void aLetterKeepsTheRawRecordAndSaysWhatFailedWhere() {
        RecordHeaders original = new RecordHeaders();
        original.add("trace-id", bytes("abc"));
        ConsumerRecord<byte[], byte[]> failed = new ConsumerRecord<>("requests", 2, 41L, 1_700_000_000_000L,
                TimestampType.CREATE_TIME, 3, 4, bytes("key"), bytes("\u0000bad"), original, Optional.empty());

        ProducerRecord<byte[], byte[]> letter = DeadLetters.of("dead-letters", failed,
                new IllegalArgumentException("unknown schema id 7"));

        assertThat(letter.topic()).isEqualTo("dead-letters");
        assertThat(letter.partition()).isNull();
        assertThat(letter.key()).isEqualTo(bytes("key"));
        assertThat(letter.value()).isEqualTo(bytes("\u0000bad"));
        assertThat(letter.timestamp()).isEqualTo(1_700_000_000_000L);
        assertThat(text(letter, "trace-id")).isEqualTo("abc");
        assertThat(text(letter, "__streams.errors.exception")).isEqualTo(IllegalArgumentException.class.getName());
        assertThat(text(letter, "__streams.errors.message")).isEqualTo("unknown schema id 7");
        assertThat(text(letter, "__streams.errors.stacktrace")).contains("aLetterKeepsTheRawRecordAndSaysWhatFailedWhere");
        assertThat(text(letter, "__streams.errors.topic")).isEqualTo("requests");
        assertThat(text(letter, "__streams.errors.partition")).isEqualTo("2");
        assertThat(text(letter, "__streams.errors.offset")).isEqualTo("41");
    }

    @Test
    void anErrorWithoutAMessageSaysNullAndARecordWithoutTimestampGetsTheTimeOfSending() {
        ConsumerRecord<byte[], byte[]> failed = new ConsumerRecord<>("t", 0, 0L, null, null);
        ProducerRecord<byte[], byte[]> letter = DeadLetters.of("dl", failed, new IllegalStateException());
        assertThat(text(letter, DeadLetters.MESSAGE)).isEqualTo("null");
        assertThat(letter.value()).isNull();
        assertThat(letter.timestamp()).isNull();
    }

    private static String text(ProducerRecord<byte[], byte[]> r, String header) {
        return new String(r.headers().lastHeader(header).value(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
