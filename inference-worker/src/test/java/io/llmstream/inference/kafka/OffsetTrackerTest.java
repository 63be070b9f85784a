package io.llmstream.inference.kafka;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OffsetTrackerTest {

    private static final TopicPartition P0 = new TopicPartition("requests", 0);
    private static final TopicPartition P1 = new TopicPartition("requests", 1);

    private static List<ProducerRecord<byte[], byte[]>> result(String id) {
        return List.of(new ProducerRecord<>("results", id.getBytes(), new byte[0]));
    }

    private static List<String> keys(OffsetTracker.Ready ready) {
        return ready.records().stream().map(r -> new String(r.key())).toList();
    }

    @Test
    void commitsOnlyTheDonePrefixOfEachPartitionWithItsOutput() {
        OffsetTracker tracker = new OffsetTracker();
        for (long offset = 10; offset < 14; offset++) {
            tracker.started(P0, offset);
        }
        tracker.started(P1, 5);
        tracker.completed(P0, 11, result("b"));
        tracker.completed(P0, 12, result("c"));
        assertThat(tracker.drain().isEmpty()).as("offset 10 is still in flight").isTrue();

        tracker.completed(P0, 10, result("a"));
        tracker.completed(P1, 5, result("x"));
        OffsetTracker.Ready ready = tracker.drain();
        assertThat(keys(ready)).containsExactlyInAnyOrder("a", "b", "c", "x");
        assertThat(ready.offsets()).isEqualTo(Map.of(P0, new OffsetAndMetadata(13), P1, new OffsetAndMetadata(6)));
        assertThat(tracker.inFlight()).isEqualTo(1);
        assertThat(tracker.drain().isEmpty()).isTrue();

        tracker.completed(P0, 13, result("d"));
        assertThat(keys(tracker.drain())).containsExactly("d");
        assertThat(tracker.inFlight()).isZero();
    }

    @Test
    void droppedPartitionsForgetTheirWorkAndLateCompletionsAreIgnored() {
        OffsetTracker tracker = new OffsetTracker();
        tracker.started(P0, 0);
        tracker.started(P0, 1);
        tracker.started(P1, 0);
        tracker.completed(P0, 1, result("late"));
        tracker.drop(List.of(P0));
        assertThat(tracker.inFlight()).isEqualTo(1);
        tracker.completed(P0, 0, result("gone"));
        tracker.completed(P1, 0, result("kept"));
        OffsetTracker.Ready ready = tracker.drain();
        assertThat(keys(ready)).containsExactly("kept");
        assertThat(ready.offsets()).containsOnlyKeys(P1);
    }
}
