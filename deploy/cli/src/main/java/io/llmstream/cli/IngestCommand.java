package io.llmstream.cli;

import io.llmstream.stream.ingest.DocumentFiles;
import io.llmstream.stream.ingest.DocumentProducer;
import io.llmstream.ops.Progress;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.Topics;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code llmstream ingest}: produces documents to Kafka, read from files as {@link DocumentFiles} describes.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = "Produce files or JSONL lines to the documents topic, one Document each.")
public final class IngestCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", defaultValue = Topics.DOCUMENTS, description = "Topic to produce to (default: ${DEFAULT-VALUE}).")
    String topic;

    private final AtomicLong failed = new AtomicLong();

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Files, directories (walked recursively) or .jsonl files.")
    List<Path> paths;

    @Override
    public Integer call() throws IOException {
        Settings settings = connection.clientSettings();
        DocumentFiles documents = new DocumentFiles(paths);
        List<Path> files = documents.files();
        try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(settings.asMap());
             KafkaProducer<String, Document> producer = DocumentProducer.create(settings.kafka(), registry)) {
            Progress progress = Progress.start("ingest", files.size());
            long sent = 0;
            for (Path file : files) {
                sent += documents.read(file, doc -> send(producer, doc));
                progress.advance(1);
            }
            progress.finish(sent + " documents");
            producer.flush();
            System.out.println("ingested " + (sent - failed.get()) + " documents from " + files.size() + " files to "
                    + topic + (failed.get() > 0 ? " (" + failed.get() + " failed)" : ""));
        }
        return failed.get() == 0 ? 0 : 1;
    }

    private void send(KafkaProducer<String, Document> producer, Document doc) {
        producer.send(new ProducerRecord<>(topic, doc.getId(), doc), (meta, error) -> {
            if (error != null) {
                failed.incrementAndGet();
                System.err.println("ingest: document '" + doc.getId() + "' failed: " + error.getMessage());
            }
        });
    }
}
