package io.llmstream.cli;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.ModelPublished;
import io.llmstream.schemas.Topics;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.trainer.kafka.ModelPublisher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code llmstream publish}: announces a model directory on the models topic, so running workers load it between
 * batches. The directory is loaded here first, as a worker would load it, so one it cannot serve never reaches the
 * topic.
 */
@Command(name = "publish", mixinStandardHelpOptions = true,
        description = "Announce a model directory (ours or a HuggingFace export) on the models topic; workers hot-load it.")
public final class PublishCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "The model directory, on a path every worker can read (a shared volume).")
    Path model;

    @Option(names = "--name", paramLabel = "NAME", description = "Model name (a HuggingFace export: default its directory's name).")
    String name;

    @Option(names = "--version", paramLabel = "V",
            description = "Version (a HuggingFace export: default a hash of its files, so changed files are a new version).")
    String version;

    @Option(names = "--variant", paramLabel = "V", description = "The graph variant to check, as the workers' model.variant.")
    String variant;

    @Option(names = "--topic", defaultValue = Topics.MODELS, description = "Topic to publish to (default: ${DEFAULT-VALUE}).")
    String topic;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ModelPublished record = ModelPublisher.describe(model, name, version);
        try (DecoderModel loaded = ModelLoader.load(model, RuntimeOptions.cpu().withVariant(variant),
                new ModelLoader.Identity(record.getName(), record.getVersion()))) {
            spec.commandLine().getErr().println("publish: " + loaded.id() + " loads (" + model.relativize(loaded.graphFile()) + ")");
        }
        Settings settings = connection.clientSettings();
        Map<String, Object> kafka = new HashMap<>(settings.kafka());
        kafka.put(ProducerConfig.ACKS_CONFIG, "all");
        kafka.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(settings.asMap());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka, new ByteArraySerializer(),
                     new ByteArraySerializer())) {
            new ModelPublisher(producer, registry, topic).publish(record);
        }
        spec.commandLine().getOut().println("published " + record.getName() + ":" + record.getVersion() + " (" + record.getUri() + ", "
                + record.getFiles().size() + " files) to " + topic);
        return 0;
    }
}
