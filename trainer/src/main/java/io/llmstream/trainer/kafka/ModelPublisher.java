package io.llmstream.trainer.kafka;

import io.llmstream.schemas.ModelArchitecture;
import io.llmstream.schemas.ModelPublished;
import io.llmstream.schemas.model.HuggingFaceConfig;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerializer;
import io.llmstream.tokenizer.Tokenizers;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.concurrent.ExecutionException;

/**
 * Announces model versions on the compacted {@code models} topic: one {@link ModelPublished} per version, keyed by
 * the model name (UTF-8), so the topic keeps the latest version of every model. The record restates the manifest
 * (files and their SHA-256, tokenizer fingerprint, architecture, metrics) with the directory's file URI; for a
 * HuggingFace export, which has no manifest, the same facts are read from the directory ({@link #describe}).
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
        return publish(toRecord(manifest, directory));
    }

    /** Sends an announcement and waits for the broker's acknowledgement. */
    public ModelPublished publish(ModelPublished record) throws IOException {
        byte[] key = record.getName().getBytes(StandardCharsets.UTF_8);
        try {
            producer.send(new ProducerRecord<>(topic, key, serializer.serialize(topic, record))).get();
        } catch (ExecutionException e) {
            throw new IOException("cannot publish model " + record.getName() + " " + record.getVersion() + " to "
                    + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while publishing model " + record.getName(), e);
        }
        return record;
    }

    /**
     * The announcement of the model in {@code directory}: ours (its manifest, which {@code name} and {@code version}
     * must match where given) or a HuggingFace export (config.json, tokenizer.json and graphs), named {@code name}
     * (default: the directory's name) and {@code version} (default: the first 12 hex digits of a SHA-256 over its
     * files' names and SHA-256, so changed files make a new version).
     */
    public static ModelPublished describe(Path directory, String name, String version) throws IOException {
        Path dir = directory.toAbsolutePath().normalize();
        if (Files.isRegularFile(dir.resolve(ModelFiles.MANIFEST))) {
            ModelManifest manifest = ModelManifest.read(dir);
            if ((name != null && !name.equals(manifest.name())) || (version != null && !version.equals(manifest.version()))) {
                throw new IllegalArgumentException(dir + " holds " + manifest.name() + ":" + manifest.version()
                        + " (its " + ModelFiles.MANIFEST + "), not " + name + ":" + version);
            }
            return toRecord(manifest, dir);
        }
        for (String required : List.of(ModelFiles.HF_CONFIG, ModelFiles.TOKENIZER)) {
            if (!Files.isRegularFile(dir.resolve(required))) {
                throw new IllegalArgumentException(dir + " is neither a model of ours (" + ModelFiles.MANIFEST
                        + ") nor a HuggingFace export: no " + required);
            }
        }
        List<String> names;
        try (Stream<Path> walk = Files.walk(dir)) {
            names = walk.filter(Files::isRegularFile)
                    .map(file -> dir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/"))
                    .toList();
        }
        Map<String, String> files = ModelManifest.digests(dir, names);
        MessageDigest digest = ModelFiles.newSha256();
        files.forEach((file, sha) -> digest.update((file + " " + sha + "\n").getBytes(StandardCharsets.UTF_8)));
        HuggingFaceConfig c = HuggingFaceConfig.read(dir);
        return ModelPublished.newBuilder()
                .setName(name != null ? name : dir.getFileName().toString())
                .setVersion(version != null ? version : HexFormat.of().formatHex(digest.digest()).substring(0, 12))
                .setUri(dir.toUri().toString())
                .setFiles(files)
                .setTokenizerFingerprint(Tokenizers.huggingFace(dir.resolve(ModelFiles.TOKENIZER)).fingerprint())
                .setArchitecture(new ModelArchitecture(c.vocabSize(), c.contextLength(), c.layers(), c.heads(),
                        c.kvHeads(), c.hidden(), c.intermediate()))
                .setCreatedAt(Files.getLastModifiedTime(dir.resolve(ModelFiles.HF_CONFIG)).toInstant())
                .build();
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
