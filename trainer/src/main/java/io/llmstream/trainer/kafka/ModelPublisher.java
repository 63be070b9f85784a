package io.llmstream.trainer.kafka;

import io.llmstream.schemas.ModelArchitecture;
import io.llmstream.schemas.ModelPublished;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerializer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.ExecutionException;

/**
 * Announces model versions on the compacted {@code models} topic: one {@link ModelPublished} per version, keyed by
 * the model name (UTF-8), so the topic keeps the latest version of every model. The record restates the manifest
 * (files and their SHA-256, tokenizer fingerprint, architecture, metrics) with the directory's file URI.
 */
public final class ModelPublisher {

    private final Producer<byte[], byte[]> producer;
    private final AvroSerializer<ModelPublished> serializer;
    private final String topic;

    /** @param producer owned by the caller; {@code acks=all} and idempotence advised */
    public ModelPublisher(Producer<byte[], byte[]> producer, SchemaRegistryClient registry, String topic) {
        this.producer = producer;
        this.serializer = new AvroSerializer<>(registry, false);
        this.topic = topic;
    }

    /** Sends the announcement of the version in {@code directory} and waits for the broker's acknowledgement. */
    public ModelPublished publish(ModelManifest manifest, Path directory) throws IOException {
        ModelPublished record = toRecord(manifest, directory);
        byte[] key = manifest.name().getBytes(StandardCharsets.UTF_8);
        try {
            producer.send(new ProducerRecord<>(topic, key, serializer.serialize(topic, record))).get();
        } catch (ExecutionException e) {
            throw new IOException("cannot publish model " + manifest.name() + " " + manifest.version() + " to "
                    + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while publishing model " + manifest.name(), e);
        }
        return record;
    }

    /** The announcement of a manifest's version, found in {@code directory}. */
    public static ModelPublished toRecord(ModelManifest manifest, Path directory) {
        ModelManifest.Architecture a = manifest.architecture();
        return ModelPublished.newBuilder()
                .setName(manifest.name())
                .setVersion(manifest.version())
                .setUri(directory.toAbsolutePath().toUri().toString())
                .setFiles(manifest.files())
                .setTokenizerFingerprint(manifest.tokenizerFingerprint())
                .setArchitecture(new ModelArchitecture(a.vocabSize(), a.contextLength(), a.layers(), a.heads(),
                        a.kvHeads(), a.dModel(), a.dFF()))
                .setMetrics(manifest.metrics())
                .setCreatedAt(Instant.parse(manifest.createdAt()))
                .build();
    }
}
