package io.llmstream.inference.kafka;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoadException;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;

import io.llmstream.schemas.ModelPublished;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Follows the compacted models topic on its own thread and loads each newly published version in the background, so
 * the worker's loop only has to install it between batches. On start it reads the topic to its end and loads just the
 * latest version of each name; after that, every new record. A record that cannot be read or a model that cannot be
 * loaded is logged with its topic, partition and offset and skipped: the worker keeps serving what it has.
 */
final class ModelWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ModelWatcher.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private final String topic;
    private final String onlyName;
    private final RuntimeOptions runtime;
    private final Consumer<DecoderModel> loaded;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<ModelPublished> deserializer;
    private final Map<String, String> versions = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param onlyName  load only this model name; null for every name
     * @param already   name to version of what the worker serves already (not loaded again)
     * @param loaded    receives each model loaded, on the watcher's thread
     */
    ModelWatcher(WorkerSettings settings, SchemaRegistryClient registry, String onlyName, Map<String, String> already,
                 Consumer<DecoderModel> loaded) {
        this.topic = settings.modelsTopic();
        this.onlyName = onlyName;
        this.runtime = settings.runtime();
        this.loaded = loaded;
        this.versions.putAll(already);
        Map<String, Object> config = new HashMap<>(settings.kafka());
        config.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, not subscribed: no group, no offsets
        config.remove("group.instance.id");
        config.remove("transactional.id");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "llmstream-inference-models-" + settings.instanceId());
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.deserializer = AvroDeserializer.specific(ModelPublished.class, registry);
        this.thread = new Thread(this::run, "model-watcher");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            List<TopicPartition> partitions = awaitTopic();
            if (partitions == null) {
                return;
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<String, ModelPublished> latest = new LinkedHashMap<>();
            while (running && partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    ModelPublished m = decode(r);
                    if (m != null) {
                        latest.remove(m.getName()); // keep publication order for the loads below
                        latest.put(m.getName(), m);
                    }
                }
            }
            latest.values().forEach(m -> load(m, "catch-up"));
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    ModelPublished m = decode(r);
                    if (m != null) {
                        load(m, r.topic() + "-" + r.partition() + "@" + r.offset());
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            log.error("the model watcher stopped; no further versions will be loaded: {}", e.toString(), e);
        } finally {
            consumer.close();
            deserializer.close();
        }
    }

    /** The topic's partitions once it exists (the trainer may create it later); null when closed meanwhile. */
    private List<TopicPartition> awaitTopic() {
        boolean told = false;
        while (running) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            if (!partitions.isEmpty()) {
                return partitions;
            }
            if (!told) {
                log.info("waiting for the topic '{}' to exist", topic);
                told = true;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    private ModelPublished decode(ConsumerRecord<byte[], byte[]> r) {
        if (r.value() == null) {
            return null; // a tombstone: the name was withdrawn; what is loaded stays until replaced
        }
        try {
            ModelPublished m = deserializer.deserialize(r.topic(), r.value());
            return onlyName == null || onlyName.equals(m.getName()) ? m : null;
        } catch (RuntimeException e) {
            log.error("skipping the unreadable record {}-{}@{} of the models topic: {}", r.topic(), r.partition(),
                    r.offset(), e.getMessage());
            return null;
        }
    }

    private void load(ModelPublished m, String origin) {
        String id = m.getName() + ":" + m.getVersion();
        if (m.getVersion().equals(versions.get(m.getName()))) {
            return;
        }
        try {
            Path dir = Path.of(URI.create(m.getUri()));
            for (Map.Entry<String, String> file : m.getFiles().entrySet()) {
                String actual = ModelFiles.sha256(dir.resolve(file.getKey()));
                if (!actual.equalsIgnoreCase(file.getValue())) {
                    throw new ModelLoadException("file " + file.getKey() + " has SHA-256 " + actual
                            + " but the models topic says " + file.getValue());
                }
            }
            // a HuggingFace export names nothing itself: it is served under the record's name and version
            DecoderModel model = ModelLoader.load(dir, runtime, new ModelLoader.Identity(m.getName(), m.getVersion()));
            versions.put(m.getName(), m.getVersion());
            loaded.accept(model);
        } catch (IOException | RuntimeException e) {
            log.error("cannot load the model {} published at {} ({}): {}", id, origin, m.getUri(), e.getMessage());
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
