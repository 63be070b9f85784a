package io.llmstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroDeserializer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code llmstream dump}: prints a topic's committed records as JSON lines. Avro values (Confluent format) are decoded
 * with their writer's schema; anything else (dead letters) is shown as UTF-8 text when it is text, else base64, with
 * the record's headers.
 */
@Command(name = "dump", mixinStandardHelpOptions = true,
        description = "Print the records of a topic as JSON lines (read_committed, from the beginning).")
public final class DumpCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", required = true, description = "Topic to read.")
    String topic;

    @Option(names = "--max", defaultValue = "100", description = "Stop after this many records (default: ${DEFAULT-VALUE}; 0 = no limit).")
    long max;

    @Option(names = "--timeout", defaultValue = "5", description = "Stop after this many seconds without a new record (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        Settings settings = connection.clientSettings();
        try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(settings.asMap())) {
            long n = dump(settings, registry, System.out);
            System.err.println("dump: " + n + " records from " + topic);
        }
        return 0;
    }

    long dump(Settings settings, SchemaRegistryClient registry, PrintStream out) throws Exception {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.putAll(settings.kafka());
        AvroDeserializer<GenericRecord> avro = AvroDeserializer.generic(registry);
        long printed = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(timeoutSeconds))
                    .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            if (partitions.isEmpty()) {
                throw new IllegalArgumentException("topic '" + topic + "' does not exist");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long idleSince = System.nanoTime();
            while ((max <= 0 || printed < max) && System.nanoTime() - idleSince < timeoutSeconds * 1_000_000_000L) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.println(JSON.writeValueAsString(toJson(r, avro)));
                    idleSince = System.nanoTime();
                    if (++printed == max) {
                        break;
                    }
                }
            }
        }
        out.flush();
        return printed;
    }

    private ObjectNode toJson(ConsumerRecord<byte[], byte[]> r, AvroDeserializer<GenericRecord> avro) throws Exception {
        ObjectNode node = JSON.createObjectNode();
        node.put("topic", r.topic()).put("partition", r.partition()).put("offset", r.offset());
        node.put("key", r.key() == null ? null : text(r.key()));
        if (r.value() == null) {
            node.putNull("value");
        } else if (r.value().length > 5 && r.value()[0] == 0) {
            GenericRecord value = avro.deserialize(r.topic(), r.value());
            node.set("value", JSON.readTree(GenericData.get().toString(value)));
        } else {
            node.put("value", text(r.value()));
        }
        if (r.headers().toArray().length > 0) {
            ObjectNode headers = node.putObject("headers");
            for (Header h : r.headers()) {
                headers.put(h.key(), h.value() == null ? null : text(h.value()));
            }
        }
        return node;
    }

    /** UTF-8 text when the bytes are valid UTF-8 without control characters, else base64. */
    private static String text(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        boolean clean = java.util.Arrays.equals(s.getBytes(StandardCharsets.UTF_8), bytes)
                && s.chars().noneMatch(c -> c < 0x20 && c != '\n' && c != '\t' && c != '\r');
        return clean ? s : "base64:" + Base64.getEncoder().encodeToString(bytes);
    }
}
