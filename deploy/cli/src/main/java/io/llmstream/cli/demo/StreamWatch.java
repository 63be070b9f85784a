package io.llmstream.cli.demo;

import io.llmstream.platform.TopicLayout;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Notices when stream applications have consumed their input topics to the end: each application's committed
 * offsets reach the topic's end offsets. Polls in the background, so the time it happened is known while the caller
 * does other work (the trainer runs meanwhile).
 */
final class StreamWatch implements AutoCloseable {
    private static final long POLL_MILLIS = 250;

    private final Admin admin;
    /** Application id (the Streams consumer group) to its input topic. */
    private final Map<String, String> inputs;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final Thread poller;
    private volatile long caughtUpAt;
    private volatile Exception failure;

    StreamWatch(String bootstrap, Map<String, String> inputs) {
        this.admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
        this.inputs = Map.copyOf(inputs);
        this.poller = new Thread(this::poll, "demo-stream-watch");
        poller.setDaemon(true);
        poller.start();
    }

    /** Waits until every application has consumed its input; fails after {@code limit} (a guard, not a speed check). */
    void awaitCaughtUp(Duration limit) throws InterruptedException {
        if (!caughtUp.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the stream applications did not consume their input within " + limit
                    + (failure == null ? "" : ": " + failure.getMessage()));
        }
    }

    /** {@link System#nanoTime()} when the inputs were consumed. */
    long caughtUpAtNanos() {
        return caughtUpAt;
    }

    private void poll() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                if (allCaughtUp()) {
                    caughtUpAt = System.nanoTime();
                    caughtUp.countDown();
                    return;
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean allCaughtUp() throws InterruptedException {
        try {
            for (var input : inputs.entrySet()) {
                if (!caughtUp(input.getKey(), input.getValue())) {
                    return false;
                }
            }
            return true;
        } catch (ExecutionException e) {
            failure = e; // the group may not exist yet; try again
            return false;
        }
    }

    private boolean caughtUp(String group, String topic) throws ExecutionException, InterruptedException {
        Map<TopicPartition, Long> ends = TopicLayout.endOffsets(admin, List.of(topic));
        Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        for (Map.Entry<TopicPartition, Long> partition : ends.entrySet()) {
            long end = partition.getValue();
            OffsetAndMetadata at = committed.get(partition.getKey());
            if (end > 0 && (at == null || at.offset() < end)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        poller.interrupt();
        admin.close(Duration.ofSeconds(5));
    }
}
