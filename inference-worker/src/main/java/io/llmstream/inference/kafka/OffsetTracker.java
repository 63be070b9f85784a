package io.llmstream.inference.kafka;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The consumed records not yet committed, per partition, each with the records it produces once its work is done.
 * Requests finish out of order (a short generation overtakes a long one), but an offset can only be committed when
 * every record before it is done: {@link #drain} hands out the done prefix of every partition, its output records and
 * the offsets to commit with them, in one transaction. Output held back this way is never sent without its offset, so
 * a crash can only lead to the work being redone, never to a second result.
 *
 * <p>Not thread-safe: the worker's loop owns it.
 */
final class OffsetTracker {

    /** What one transaction carries: output records in consumption order and the offsets they complete. */
    record Ready(List<ProducerRecord<byte[], byte[]>> records, Map<TopicPartition, OffsetAndMetadata> offsets) {
        boolean isEmpty() {
            return offsets.isEmpty();
        }
    }

    /** Marks work in progress; compared by identity (an empty output list is a different object). */
    private static final List<ProducerRecord<byte[], byte[]>> IN_FLIGHT = java.util.Collections.unmodifiableList(new ArrayList<>());

    private final Map<TopicPartition, TreeMap<Long, List<ProducerRecord<byte[], byte[]>>>> pending = new HashMap<>();
    private int inFlight;

    /** A record was consumed; its work starts. */
    void started(TopicPartition partition, long offset) {
        pending.computeIfAbsent(partition, p -> new TreeMap<>()).put(offset, IN_FLIGHT);
        inFlight++;
    }

    /** A record's work is done; {@code output} goes out when its offset is committed. No-op if it was dropped. */
    void completed(TopicPartition partition, long offset, List<ProducerRecord<byte[], byte[]>> output) {
        TreeMap<Long, List<ProducerRecord<byte[], byte[]>>> records = pending.get(partition);
        if (records != null && records.get(offset) == IN_FLIGHT) {
            records.put(offset, List.copyOf(output));
            inFlight--;
        }
    }

    /** Takes out the done prefix of every partition. */
    Ready drain() {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Map.Entry<TopicPartition, TreeMap<Long, List<ProducerRecord<byte[], byte[]>>>> e : pending.entrySet()) {
            long next = -1;
            Iterator<Map.Entry<Long, List<ProducerRecord<byte[], byte[]>>>> it = e.getValue().entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<Long, List<ProducerRecord<byte[], byte[]>>> entry = it.next();
                if (entry.getValue() == IN_FLIGHT) {
                    break;
                }
                records.addAll(entry.getValue());
                next = entry.getKey() + 1;
                it.remove();
            }
            if (next >= 0) {
                offsets.put(e.getKey(), new OffsetAndMetadata(next));
            }
        }
        return new Ready(records, offsets);
    }

    /** Forgets partitions (revoked or lost, or after an aborted transaction): their records will be consumed again. */
    void drop(Collection<TopicPartition> partitions) {
        for (TopicPartition p : partitions) {
            TreeMap<Long, List<ProducerRecord<byte[], byte[]>>> records = pending.remove(p);
            if (records != null) {
                inFlight -= (int) records.values().stream().filter(v -> v == IN_FLIGHT).count();
            }
        }
    }

    /** Records consumed whose work is not done yet. */
    int inFlight() {
        return inFlight;
    }

    /** Partitions with records not yet committed. */
    Collection<TopicPartition> partitions() {
        return List.copyOf(pending.keySet());
    }
}
