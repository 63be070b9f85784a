package io.llmstream.trainer.kafka;

import io.llmstream.ops.DeadLetters;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryException;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.trainer.TrainingListener;
import io.llmstream.trainer.Window;
import io.llmstream.trainer.WindowSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ExecutionException;


/**
 * Training windows from the {@code training-windows} topic ({@link TrainingWindow}, Confluent-wire-format Avro).
 *
 * <p>The source assigns itself every partition of the topic (no group rebalancing: one trainer owns the stream) and
 * reads with {@code isolation.level=read_committed}, since the stream application writes windows in transactions.
 * Its {@link #position()} is partition to next offset ({@code "training-windows-0" -> 1234}), counted over the records
 * it has handed out or skipped, not over what the consumer has prefetched; {@link #seek} puts the consumer back there,
 * so resuming from a checkpoint trains no window twice and skips none. A partition the position does not name (added
 * to the topic later) is read from its beginning; partitions added while training are picked up at the next start. On a
 * fresh start the consumer group's committed offsets apply, else {@code auto.offset.reset} (earliest unless
 * configured). Each partition is read in offset order; how partitions interleave depends on fetch timing, so a resumed
 * run reproduces an uninterrupted one bit for bit only on a single-partition topic.
 *
 * <p>Refused records never reach the trainer: a window of another tokenizer (its fingerprint differs from the
 * configured one) goes to {@link TrainingListener#onRejectedWindow}; bytes that do not decode are logged with their
 * topic, partition and offset, reported to {@link TrainingListener#onUndecodableRecord} and copied to the dead-letter
 * topic with Kafka Streams' {@code __streams.errors.*} headers. Both stay on the topic, so nothing is lost.
 *
 * <p>Offsets are committed to the group after each checkpoint ({@link #checkpointed}), so lag metrics work; the
 * checkpoint, not the group, decides where a resumed trainer continues. One thread uses a source, except
 * {@link #stop()}, which any thread may call.
 */
public final class KafkaWindowSource implements WindowSource {

    private static final Logger log = LoggerFactory.getLogger(KafkaWindowSource.class);
    private static final Duration POLL = Duration.ofMillis(200);

    /**
     * @param topic                the windows topic
     * @param tokenizerFingerprint the configured tokenizer's fingerprint; windows of any other are refused
     * @param deadLetterTopic      where undecodable records are copied; null to only log and count them
     * @param idleTimeout          {@link #next()} reports the end after this long without a record; zero waits forever
     */
    public record Options(String topic, String tokenizerFingerprint, String deadLetterTopic, Duration idleTimeout) {
        public Options {
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(tokenizerFingerprint, "tokenizerFingerprint");
            if (idleTimeout.isNegative()) {
                throw new IllegalArgumentException("idleTimeout must not be negative");
            }
        }
    }

    private final Options options;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<TrainingWindow> deserializer;
    private final Producer<byte[], byte[]> deadLetters;
    private final TrainingListener listener;
    private final List<TopicPartition> partitions;
    private final Map<TopicPartition, Long> next = new LinkedHashMap<>();
    private final Queue<ConsumerRecord<byte[], byte[]>> fetched = new ArrayDeque<>();
    private volatile boolean stopped;

    /**
     * Connects and resolves the starting offset of every partition (blocking until the broker answers).
     *
     * @param kafka       consumer settings; {@code group.id} is required, offsets are never auto-committed
     * @param deadLetters producer for the dead-letter topic (owned by the caller); null when there is none
     */
    public KafkaWindowSource(Map<String, Object> kafka, Options options, SchemaRegistryClient registry,
                             Producer<byte[], byte[]> deadLetters, TrainingListener listener) {
        if (kafka.get(ConsumerConfig.GROUP_ID_CONFIG) == null) {
            throw new IllegalArgumentException("the trainer's consumer needs group.id (kafka.group.id) to commit offsets");
        }
        this.options = options;
        this.deadLetters = options.deadLetterTopic() == null ? null : deadLetters;
        this.listener = listener;
        this.deserializer = AvroDeserializer.specific(TrainingWindow.class, registry);
        Map<String, Object> config = new HashMap<>(kafka);
        config.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // Not overridable: uncommitted (possibly aborted) windows must never be trained on, and the checkpoint owns
        // the offsets.
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            List<PartitionInfo> infos = consumer.partitionsFor(options.topic());
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic '" + options.topic() + "' does not exist");
            }
            this.partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition()))
                    .sorted((a, b) -> Integer.compare(a.partition(), b.partition())).toList();
            consumer.assign(partitions);
            for (TopicPartition tp : partitions) {
                next.put(tp, consumer.position(tp));
            }
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
        log.info("reading windows from {} at {}", options.topic(), next);
    }

    @Override
    public Optional<Window> next() throws IOException {
        long idleSince = System.nanoTime();
        while (!stopped) {
            ConsumerRecord<byte[], byte[]> record = fetched.poll();
            if (record == null) {
                if (!options.idleTimeout().isZero() && System.nanoTime() - idleSince >= options.idleTimeout().toNanos()) {
                    log.info("no window for {}: treating {} as ended", options.idleTimeout(), options.topic());
                    return Optional.empty();
                }
                try {
                    consumer.poll(POLL).forEach(fetched::add);
                } catch (WakeupException e) {
                    // stop() asked for the end; the loop condition sees it
                }
                continue;
            }
            Optional<Window> window = accept(record);
            next.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
            if (window.isPresent()) {
                return window;
            }
            idleSince = System.nanoTime();
        }
        return Optional.empty();
    }

    @Override
    public Map<String, Long> position() {
        Map<String, Long> position = new LinkedHashMap<>();
        next.forEach((tp, offset) -> position.put(tp.toString(), offset));
        return position;
    }

    @Override
    public void seek(Map<String, Long> position) {
        Map<String, TopicPartition> byName = new HashMap<>();
        partitions.forEach(tp -> byName.put(tp.toString(), tp));
        position.keySet().stream().filter(name -> !byName.containsKey(name)).forEach(name ->
                log.warn("ignoring checkpoint position {}={}: not a partition of {}", name, position.get(name),
                        options.topic()));
        List<TopicPartition> unnamed = partitions.stream().filter(tp -> !position.containsKey(tp.toString())).toList();
        Map<TopicPartition, Long> beginnings = unnamed.isEmpty() ? Map.of() : consumer.beginningOffsets(unnamed);
        fetched.clear();
        for (TopicPartition tp : partitions) {
            Long offset = position.containsKey(tp.toString()) ? position.get(tp.toString()) : beginnings.get(tp);
            consumer.seek(tp, offset);
            next.put(tp, offset);
        }
        log.info("sought {} to {}", options.topic(), next);
    }

    /** Commits a checkpointed position to the group; a failure is only logged, as the checkpoint already holds it. */
    @Override
    public void checkpointed(Map<String, Long> position) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            Long offset = position.get(tp.toString());
            if (offset != null) {
                offsets.put(tp, new OffsetAndMetadata(offset));
            }
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                consumer.commitSync(offsets);
                return;
            } catch (WakeupException e) {
                // a stop() meant for poll(); it is used up now, so commit once more
            } catch (KafkaException e) {
                log.warn("could not commit offsets {} to the group (the checkpoint holds them): {}", offsets, e.toString());
                return;
            }
        }
    }

    /** Makes {@link #next()} report the end as soon as possible; safe from any thread (e.g. a shutdown hook). */
    public void stop() {
        stopped = true;
        consumer.wakeup();
    }

    @Override
    public void close() {
        consumer.close();
    }

    /** The window in the record, or empty when the record is refused (already reported). */
    private Optional<Window> accept(ConsumerRecord<byte[], byte[]> record) throws IOException {
        String origin = record.topic() + "-" + record.partition() + "@" + record.offset();
        TrainingWindow value;
        try {
            value = record.value() == null ? null : deserializer.deserialize(record.topic(), record.value());
        } catch (SchemaRegistryException e) {
            // The registry is down, the record is not at fault: stop rather than dead-letter good data.
            throw new IOException(origin + ": cannot reach the schema registry: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            undecodable(record, origin, e);
            return Optional.empty();
        }
        if (value == null) {
            undecodable(record, origin, new IllegalArgumentException("record without a value (tombstone)"));
            return Optional.empty();
        }
        Window window = new Window(IntLists.toArray(value.getTokens()), lossMask(value.getLossMask()), value.getLabel(),
                Window.Split.valueOf(value.getSplit().name()), origin);
        if (!options.tokenizerFingerprint().equals(value.getTokenizerFingerprint())) {
            String reason = "tokenizer fingerprint " + value.getTokenizerFingerprint() + " is not the configured "
                    + options.tokenizerFingerprint();
            log.warn("refusing window {}: {}", origin, reason);
            listener.onRejectedWindow(window, reason);
            return Optional.empty();
        }
        return Optional.of(window);
    }

    private void undecodable(ConsumerRecord<byte[], byte[]> record, String origin, Exception e) throws IOException {
        log.warn("skipping undecodable record at topic {} partition {} offset {}: {}", record.topic(), record.partition(),
                record.offset(), e.getMessage());
        listener.onUndecodableRecord(origin, e.getMessage());
        if (deadLetters == null) {
            return;
        }
        ProducerRecord<byte[], byte[]> letter = DeadLetters.of(options.deadLetterTopic(), record, e);
        try {
            // Waited for: the position moves past the record only once its copy is safe.
            deadLetters.send(letter).get();
        } catch (ExecutionException ex) {
            throw new IOException(origin + ": cannot write to dead-letter topic " + options.deadLetterTopic(), ex.getCause());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException(origin + ": interrupted while writing to the dead-letter topic", ex);
        }
    }

    private static boolean[] lossMask(List<Boolean> flags) {
        if (flags == null) {
            return null;
        }
        boolean[] mask = new boolean[flags.size()];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = flags.get(i);
        }
        return mask;
    }
}
