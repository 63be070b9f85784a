package io.llmstream.deploy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.ops.Progress;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.Topics;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerializer;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code llmstream ingest}: produces documents to Kafka. A plain file is one document (id = its path relative to the
 * argument it was found under); a {@code .jsonl} file holds one document per line ({@code id}, {@code text}, optional
 * {@code source} and {@code attributes}).
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = "Produce files or JSONL lines to the documents topic, one Document each.")
public final class IngestCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

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
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (!Files.exists(p)) {
                throw new IllegalArgumentException("no such file or directory: " + p);
            }
            try (Stream<Path> walk = Files.walk(p)) {
                walk.filter(Files::isRegularFile).sorted().forEach(files::add);
            }
        }
        try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(settings.asMap());
             KafkaProducer<String, Document> producer = producer(settings, registry)) {
            long sent = ingest(producer, files, Progress.start("ingest", files.size()));
            producer.flush();
            System.out.println("ingested " + (sent - failed.get()) + " documents from " + files.size() + " files to "
                    + topic + (failed.get() > 0 ? " (" + failed.get() + " failed)" : ""));
        }
        return failed.get() == 0 ? 0 : 1;
    }

    private KafkaProducer<String, Document> producer(Settings settings, SchemaRegistryClient registry) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 * 1024 * 1024);
        config.putAll(settings.kafka());
        return new KafkaProducer<>(config, new StringSerializer(), new AvroSerializer<>(registry, false));
    }

    private long ingest(KafkaProducer<String, Document> producer, List<Path> files, Progress progress) throws IOException {
        long sent = 0;
        for (Path file : files) {
            if (file.getFileName().toString().endsWith(".jsonl")) {
                sent += ingestJsonLines(producer, file);
            } else {
                String id = idOf(file);
                send(producer, new Document(id, Files.readString(file, StandardCharsets.UTF_8), file.toString(), Map.of(), null));
                sent++;
            }
            progress.advance(1);
        }
        progress.finish(sent + " documents");
        return sent;
    }

    private long ingestJsonLines(KafkaProducer<String, Document> producer, Path file) throws IOException {
        long sent = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                send(producer, parseLine(line, file, lineNo));
                sent++;
            }
        }
        return sent;
    }

    /** One JSONL line as a Document; a bad line is refused with its file and line number. */
    static Document parseLine(String line, Path file, int lineNo) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": not JSON: " + e.getOriginalMessage());
        }
        if (!node.hasNonNull("id") || !node.hasNonNull("text")) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": a document needs \"id\" and \"text\"");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        node.path("attributes").fields().forEachRemaining(e -> attributes.put(e.getKey(), e.getValue().asText()));
        String source = node.hasNonNull("source") ? node.get("source").asText() : file.toString();
        return new Document(node.get("id").asText(), node.get("text").asText(), source, attributes, null);
    }

    private String idOf(Path file) {
        for (Path root : paths) {
            if (file.startsWith(root) && !file.equals(root)) {
                return root.relativize(file).toString();
            }
        }
        return file.getFileName().toString();
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
