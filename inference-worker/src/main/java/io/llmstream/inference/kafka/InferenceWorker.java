package io.llmstream.inference.kafka;

import io.llmstream.inference.engine.Outcome;
import io.llmstream.inference.engine.Scheduler;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelCatalog;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.ops.DeadLetters;
import io.llmstream.ops.OpsServer;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.InferenceRequest;
import io.llmstream.schemas.InferenceResult;
import io.llmstream.schemas.ResultStatus;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import io.llmstream.schemas.serde.AvroSerializer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The inference worker: consumes {@code InferenceRequest}s, batches them onto the loaded models with the
 * {@link Scheduler}, and produces exactly one {@code InferenceResult} per request.
 *
 * <p><b>A request's way.</b> The loop polls a record and {@link OffsetTracker} notes its offset as started; the
 * record's value decodes to an {@code InferenceRequest}, {@link ModelCatalog} binds it to a loaded
 * {@link DecoderModel}, and {@link AvroMapping} checks it against that model and makes the engine's {@code Job},
 * tagged with a {@link Ticket} of where it came from. The {@link Scheduler} queues the job; at each step it takes the
 * jobs that fit the running batch and prefills them (classifications go to its label scorer), then decodes one token
 * for every running {@code Sequence}; each forward pass is a {@code ModelRunner} writing the batch's ids, mask and
 * positions over its {@code KvCache} and calling ONNX Runtime's {@code session.run} on the model's serving graph. A
 * job that ends comes back as an {@link Outcome}, which {@link AvroMapping} turns into an {@code InferenceResult};
 * {@link OffsetTracker} holds it until every earlier record of its partition is done, and then one Kafka transaction
 * carries the results with the offsets after them.
 *
 * <p><b>Exactly one result.</b> Offsets are committed only through the producer's transactions: each transaction carries
 * the results (and dead letters) of a done prefix of consumed records together with the offsets after them
 * ({@link OffsetTracker}). A crash or rebalance before the commit loses the uncommitted work, which the next owner of
 * the partition redoes from the committed offset; readers with {@code isolation.level=read_committed} never see an
 * aborted result. The transactional id is stable per instance, so a restarted worker fences its predecessor. A
 * transaction the coordinator aborted because it outlived {@code transaction.timeout.ms} (a long pause) leaves the
 * producer unusable: the worker starts a new one under the same id and redoes the uncommitted requests.
 *
 * <p><b>Bad input.</b> A request that cannot be served (empty prompt, ids outside the vocabulary, another tokenizer,
 * parameters out of range, an unknown pinned model) gets an ERROR result with the reason; a record that cannot be
 * decoded goes to the dead-letter topic with its raw key and value and {@code __streams.errors.*} headers.
 *
 * <p><b>Backpressure.</b> When the requests waiting and running reach {@code queue.capacity} the worker pauses its
 * partitions and keeps polling (so it stays in the group); it resumes at half.
 *
 * <p><b>Hot reload.</b> A {@link ModelWatcher} loads newly published versions in the background; the loop installs
 * them between steps. Requests are bound to a model when they arrive: unpinned ones to the newest version of the
 * default model, so requests already queued finish on the version they were given and later ones start new batches on
 * the new version. Superseded versions beyond {@code models.keep} are closed once nothing uses them.
 *
 * <p>One thread (the loop) owns the Kafka clients, the scheduler and the models.
 */
public final class InferenceWorker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InferenceWorker.class);
    private static final long POLL_MS = 100;
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** The producer's own default of transaction.timeout.ms. */
    private static final int DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

    private final WorkerSettings settings;
    private final SchemaRegistryClient registry;
    private final AvroDeserializer<InferenceRequest> requestReader;
    private final AvroSerializer<InferenceResult> resultWriter;
    private final KafkaConsumer<byte[], byte[]> consumer;
    /** Built once from the settings: the producer, and any that replaces it, runs on it. */
    private final Map<String, Object> producerConfig;
    private KafkaProducer<byte[], byte[]> producer;
    private final ModelCatalog catalog;
    private final ConcurrentLinkedQueue<DecoderModel> loaded = new ConcurrentLinkedQueue<>();
    private final List<DecoderModel> retiring = new ArrayList<>();
    private final Scheduler<Ticket> scheduler;
    private final OffsetTracker offsets = new OffsetTracker();
    private final WorkerMetrics metrics;
    private final ModelWatcher watcher;
    private final OpsServer ops;
    private final Thread loop;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile String state = "STARTING";
    private boolean paused;
    private boolean rewindNeeded;
    private long transactions;
    private final long transactionTimeoutMillis;

    private InferenceWorker(WorkerSettings settings, DecoderModel initial) {
        this.settings = settings;
        this.registry = HttpSchemaRegistryClient.fromConfig(settings.registry());
        this.requestReader = AvroDeserializer.specific(InferenceRequest.class, registry);
        this.resultWriter = new AvroSerializer<>(registry, false);
        this.consumer = new KafkaConsumer<>(consumerConfig(settings), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.producerConfig = producerConfig(settings);
        this.producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        this.transactionTimeoutMillis = Long.parseLong(String.valueOf(
                producerConfig.getOrDefault(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, DEFAULT_TRANSACTION_TIMEOUT_MS)));
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.metrics = new WorkerMetrics(meters);
        this.scheduler = new Scheduler<>(settings.limits(), metrics);
        this.catalog = new ModelCatalog(settings.modelName(), settings.keepVersions());
        Map<String, String> serving = new HashMap<>();
        if (initial != null) {
            loaded.add(initial);
            serving.put(initial.name(), initial.version());
        }
        this.watcher = settings.watchModels()
                ? new ModelWatcher(settings, registry, settings.modelName(), serving, loaded::add) : null;
        this.ops = settings.opsPort() < 0 ? null : OpsServer.start(settings.opsPort(), this::health, meters);
        this.loop = new Thread(this::run, "inference-worker");
    }

    /** Loads the configured model (if any), connects to Kafka and starts serving on a thread of its own. */
    public static InferenceWorker start(Settings raw) {
        WorkerSettings settings = WorkerSettings.from(raw);
        DecoderModel initial = settings.modelDir() == null ? null : ModelLoader.load(settings.modelDir(), settings.runtime());
        InferenceWorker worker = new InferenceWorker(settings, initial);
        if (worker.watcher != null) {
            worker.watcher.start();
        }
        worker.loop.start();
        log.info("inference worker {} started: {} -> {}, transactional id {}", settings.instanceId(),
                settings.requestsTopic(), settings.resultsTopic(), settings.transactionalId());
        return worker;
    }

    /** UP while starting, waiting for a first model, serving or paused; DOWN once failed or stopped. */
    public OpsServer.Health health() {
        String s = state;
        return new OpsServer.Health(!s.equals("FAILED") && !s.equals("STOPPED"), s);
    }

    public int opsPort() {
        return ops == null ? -1 : ops.port();
    }

    /** Blocks until the worker stops (closed, or failed: a fenced producer, an authorization error). */
    public void awaitTermination() throws InterruptedException {
        stopped.await();
    }

    /** Finishes the work in hand for a few seconds and commits it, then stops; later work is redone by the next owner. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            loop.join(GRACE_NANOS / 1_000_000 + 30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (ops != null) {
            ops.close();
        }
        registry.close();
    }

    // ---- the loop -------------------------------------------------------------------------------------------------

    private void run() {
        try {
            producer.initTransactions();
            awaitFirstModel();
            consumer.subscribe(List.of(settings.requestsTopic()), new Rebalance());
            state = "RUNNING";
            while (running) {
                iterate();
            }
            finishInHand();
            state = "STOPPED";
        } catch (WakeupException e) {
            finishInHand();
            state = "STOPPED";
        } catch (RuntimeException e) {
            state = "FAILED";
            log.error("the inference worker stopped: {}", e.toString(), e);
        } finally {
            closeQuietly(consumer);
            closeQuietly(producer);
            installModels();
            catalog.all().forEach(DecoderModel::close);
            retiring.forEach(DecoderModel::close);
            stopped.countDown();
        }
    }

    private void awaitFirstModel() {
        while (running && loaded.isEmpty()) {
            if (!state.equals("WAITING_FOR_MODEL")) {
                state = "WAITING_FOR_MODEL";
                log.info("waiting for a model on the '{}' topic", settings.modelsTopic());
            }
            sleep(200);
        }
        installModels();
    }

    private void iterate() {
        installModels();
        long wait = scheduler.isIdle() ? POLL_MS
                : Math.min(POLL_MS, TimeUnit.NANOSECONDS.toMillis(scheduler.nanosUntilReady()));
        try {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(wait))) {
                accept(r);
            }
            for (Outcome<Ticket> o : scheduler.step()) {
                complete(o.job().tag(), AvroMapping.result(o));
            }
            if (!commit() || rewindNeeded) {
                rewind();
            }
        } catch (WakeupException e) {
            throw e;
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                 | UnsupportedVersionException | FencedInstanceIdException e) {
            throw new IllegalStateException("cannot go on (another worker with transactional id "
                    + settings.transactionalId() + " or the same group.instance.id, or missing rights?)", e);
        } catch (RuntimeException e) {
            // e.g. the registry unreachable: nothing done since the last commit counts; redo it after a pause
            log.warn("redoing the uncommitted requests after: {}", e.toString(), e);
            abortQuietly();
            rewind();
            sleep(1000);
        }
        backpressure();
        metrics.load(scheduler.queued(), scheduler.running());
    }

    /** After close: no new records; finish what is in hand for a while and commit it. */
    private void finishInHand() {
        long deadline = System.nanoTime() + GRACE_NANOS;
        try {
            while (!scheduler.isIdle() && System.nanoTime() < deadline) {
                if (scheduler.nanosUntilReady() > 0) {
                    sleep(1);
                }
                for (Outcome<Ticket> o : scheduler.step()) {
                    complete(o.job().tag(), AvroMapping.result(o));
                }
                commit();
            }
            commit();
        } catch (RuntimeException e) {
            log.warn("stopping with uncommitted work, which the next owner redoes: {}", e.toString());
        }
    }

    // ---- requests in ----------------------------------------------------------------------------------------------

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        TopicPartition partition = new TopicPartition(r.topic(), r.partition());
        offsets.started(partition, r.offset());
        InferenceRequest request;
        try {
            if (r.value() == null) {
                throw new SerializationException("the record has no value (a tombstone), so no request");
            }
            request = requestReader.deserialize(r.topic(), r.value());
        } catch (SerializationException e) {
            deadLetter(partition, r, e);
            return;
        }
        Ticket ticket = new Ticket(partition, r.offset(), request, r.timestamp());
        DecoderModel model = null;
        try {
            model = catalog.resolve(request.getModel());
            scheduler.submit(AvroMapping.job(ticket, model));
        } catch (IllegalArgumentException e) {
            complete(ticket, AvroMapping.error(request, AvroMapping.modelRef(request, model, catalog.current()),
                    e.getMessage()));
        }
    }

    private void deadLetter(TopicPartition partition, ConsumerRecord<byte[], byte[]> r, Exception e) {
        log.warn("undecodable request {}-{}@{} goes to '{}': {}", r.topic(), r.partition(), r.offset(),
                settings.deadLettersTopic(), e.getMessage());
        offsets.completed(partition, r.offset(), List.of(DeadLetters.of(settings.deadLettersTopic(), r, e)));
        metrics.deadLetter();
    }

    // ---- results out ----------------------------------------------------------------------------------------------

    private void complete(Ticket ticket, InferenceResult result) {
        byte[] value = resultWriter.serialize(settings.resultsTopic(), result);
        offsets.completed(ticket.partition(), ticket.offset(), List.of(new ProducerRecord<>(settings.resultsTopic(),
                utf8(result.getRequestId()), value)));
        metrics.result(result.getStatus() == ResultStatus.OK);
    }

    /**
     * Sends the done prefix of every partition with its offsets in one transaction.
     *
     * @return false when the transaction failed and was aborted (the caller rewinds)
     */
    private boolean commit() {
        OffsetTracker.Ready ready = offsets.drain();
        if (ready.isEmpty()) {
            return true;
        }
        long begun = System.nanoTime();
        try {
            producer.beginTransaction();
            transactions++;
            for (ProducerRecord<byte[], byte[]> r : ready.records()) {
                producer.send(r);
            }
            producer.sendOffsetsToTransaction(ready.offsets(), consumer.groupMetadata());
            if (settings.stall().at(transactions)) {
                log.warn("fault injection: transaction {} stalls {} ms before its commit", transactions,
                        settings.stall().millis());
                sleep(settings.stall().millis());
            }
            producer.commitTransaction();
            return true;
        } catch (ProducerFencedException e) {
            if (System.nanoTime() - begun <= TimeUnit.MILLISECONDS.toNanos(transactionTimeoutMillis)) {
                throw e; // another producer with our transactional id: this instance must stop
            }
            // the coordinator fenced our own transaction, which outlived transaction.timeout.ms (a long pause)
            replaceProducer(e);
            return false;
        } catch (OutOfOrderSequenceException | AuthorizationException | UnsupportedVersionException
                 | FencedInstanceIdException e) {
            throw e;
        } catch (KafkaException e) {
            log.warn("transaction aborted, its requests will be redone: {}", e.toString());
            try {
                producer.abortTransaction();
            } catch (KafkaException fatal) {
                // e.g. the coordinator aborted a transaction that outlived its timeout: the producer is unusable
                replaceProducer(fatal);
            }
            return false;
        }
    }

    /**
     * A new producer under the same transactional id, for one in a fatal state after a failure this worker can
     * recover from; its {@code initTransactions} aborts whatever the old one left open. The caller rewinds.
     */
    private void replaceProducer(KafkaException cause) {
        log.warn("the producer cannot go on ({}); starting a new one with transactional id {} and redoing the "
                + "uncommitted requests", cause.toString(), settings.transactionalId());
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.debug("closing the old producer: {}", e.toString());
        }
        producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        producer.initTransactions();
    }

    /** Forgets all uncommitted work and seeks back to the committed offsets, to redo it. */
    private void rewind() {
        rewindNeeded = false;
        scheduler.cancel(t -> true);
        offsets.drop(offsets.partitions());
        Set<TopicPartition> assigned = consumer.assignment();
        if (assigned.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned);
        for (TopicPartition p : assigned) {
            OffsetAndMetadata c = committed.get(p);
            if (c != null) {
                consumer.seek(p, c.offset());
            } else {
                consumer.seekToBeginning(List.of(p));
            }
        }
    }

    private void backpressure() {
        int load = offsets.inFlight(); // consumed requests not done yet: waiting or running
        if (!paused && load >= settings.queueCapacity()) {
            consumer.pause(consumer.assignment());
            paused = true;
            state = "PAUSED";
            log.debug("paused: {} requests in hand", load);
        } else if (paused && load <= settings.queueCapacity() / 2) {
            consumer.resume(consumer.paused());
            paused = false;
            state = "RUNNING";
            log.debug("resumed: {} requests in hand", load);
        }
    }

    /** Between steps: installs the versions loaded in the background and closes superseded ones nothing uses. */
    private void installModels() {
        for (DecoderModel m; (m = loaded.poll()) != null; ) {
            retiring.addAll(catalog.install(m));
            metrics.model(m, true);
            log.info("serving {} on {}; loaded: {}", m.id(), m.provider().label(), catalog.loaded());
        }
        for (Iterator<DecoderModel> it = retiring.iterator(); it.hasNext(); ) {
            DecoderModel m = it.next();
            if (!scheduler.uses(m)) {
                scheduler.forget(m);
                m.close();
                metrics.model(m, false);
                it.remove();
            }
        }
    }

    /** Rebalances happen inside poll, on the loop's thread. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Commit what is done while the group generation still holds; the rest is the next owner's to redo.
            if (!commit()) {
                rewindNeeded = true;
            }
            forget("revoked", partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget("lost", partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                log.info("assigned {}", partitions);
            }
            if (paused) {
                consumer.pause(partitions);
            }
        }

        private void forget(String how, Collection<TopicPartition> partitions) {
            int dropped = scheduler.cancel(t -> partitions.contains(t.partition())).size();
            offsets.drop(partitions);
            log.info("{} {}: {} requests in hand left to the next owner", how, partitions, dropped);
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------------------------

    private static Map<String, Object> consumerConfig(WorkerSettings s) {
        Map<String, Object> config = only(s.kafka(), ConsumerConfig.configNames());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "llmstream-inference-" + s.instanceId());
        return config;
    }

    private static Map<String, Object> producerConfig(WorkerSettings s) {
        Map<String, Object> config = only(s.kafka(), ProducerConfig.configNames());
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, s.transactionalId());
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "llmstream-inference-" + s.instanceId());
        return config;
    }

    /** The settings one kind of client knows, so neither logs the other's keys as unused. */
    private static Map<String, Object> only(Map<String, Object> kafka, Set<String> known) {
        Map<String, Object> out = new HashMap<>();
        kafka.forEach((k, v) -> {
            if (known.contains(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    private void abortQuietly() {
        try {
            producer.abortTransaction();
        } catch (RuntimeException e) {
            log.debug("no transaction to abort: {}", e.toString());
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("closing {}: {}", c, e.toString());
        }
    }
}
