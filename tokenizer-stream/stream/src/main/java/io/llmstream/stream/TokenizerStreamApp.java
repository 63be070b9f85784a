package io.llmstream.stream;

import io.llmstream.ops.ComponentArgs;
import io.llmstream.ops.OpsServer;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The running tokenizer-stream application: Kafka Streams on the topology, plus /health and /metrics. */
public final class TokenizerStreamApp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TokenizerStreamApp.class);

    private final KafkaStreams streams;
    private final OpsServer ops;
    private final SchemaRegistryClient registry;
    private final StreamMetrics metrics;
    private final CountDownLatch terminated = new CountDownLatch(1);

    private TokenizerStreamApp(KafkaStreams streams, OpsServer ops, SchemaRegistryClient registry, StreamMetrics metrics) {
        this.streams = streams;
        this.ops = ops;
        this.registry = registry;
        this.metrics = metrics;
        // Must be set before start(); ERROR and NOT_RUNNING are the states a stream thread never leaves.
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                terminated.countDown();
            }
        });
    }

    /** Loads the tokenizer, builds the topology and starts it. */
    public static TokenizerStreamApp start(Settings raw) {
        StreamSettings settings = StreamSettings.from(raw);
        Tokenizer tokenizer = Tokenizers.load(settings.tokenizer());
        SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(raw.asMap());
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        StreamMetrics metrics = new StreamMetrics(meters);
        Topology topology = TokenizerTopology.build(settings, tokenizer, registry, metrics);
        KafkaStreams streams = new KafkaStreams(topology, streamsConfig(settings, metrics));
        new KafkaStreamsMetrics(streams).bindTo(meters);
        OpsServer ops = settings.opsPort() < 0 ? null : OpsServer.start(settings.opsPort(),
                () -> new OpsServer.Health(streams.state().isRunningOrRebalancing(), streams.state().name()), meters);
        TokenizerStreamApp app = new TokenizerStreamApp(streams, ops, registry, metrics);
        streams.start();
        log.info("tokenizer-stream started: tokenizer {} ({}), {} -> {}", tokenizer.name(), tokenizer.fingerprint(),
                settings.documentsTopic(), settings.tokensTopic());
        return app;
    }

    /**
     * Kafka Streams settings: our exactly-once and dead-letter defaults under whatever {@code kafka.*} the user gave.
     */
    public static Properties streamsConfig(StreamSettings settings, StreamMetrics metrics) {
        Properties props = new Properties();
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, settings.deadLettersTopic());
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandlers.Deserialization.class);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandlers.Processing.class);
        // the topology has no global stores; opting in now is Kafka 5's default and silences a warning per start,
        // which the main consumer's partition assignor gives too unless its configs carry the flag as well
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        props.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), true);
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandlers.Production.class);
        // Token records of large documents are several MB; the topics need max.message.bytes to match.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 32 * 1024 * 1024);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), 32 * 1024 * 1024);
        // A token record is KBs, so the default 16 KiB batch holds a handful; larger batches cut the stream thread's
        // and the broker's work per document (llmstream bench stream, docs/BENCHMARKS.md).
        props.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
        props.putAll(settings.kafka());
        props.put(DeadLetterHandlers.METRICS_CONFIG, metrics);
        return props;
    }

    public StreamMetrics metrics() {
        return metrics;
    }

    public int opsPort() {
        return ops == null ? -1 : ops.port();
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
        if (ops != null) {
            ops.close();
        }
        registry.close();
    }

    /** The container entry point: runs until SIGTERM, then closes cleanly (commits, flushes the state stores). */
    public static void main(String[] args) throws InterruptedException {
        Settings settings = ComponentArgs.parse(args).settings(StreamSettings.defaults());
        runUntilShutdown(settings);
    }

    public static void runUntilShutdown(Settings settings) throws InterruptedException {
        TokenizerStreamApp app = start(settings);
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "tokenizer-stream-shutdown"));
        app.terminated.await();
    }
}
