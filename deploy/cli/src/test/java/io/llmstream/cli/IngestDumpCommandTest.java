package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.platform.testing.TestPlatform;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class IngestDumpCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestPlatform platform;

    @BeforeAll
    static void start() {
        platform = TestPlatform.start();
        platform.createTopic("ingest-docs", 2);
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void ingestedFilesAndJsonLinesComeBackFromDump(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("corpus/sub"));
        Files.writeString(dir.resolve("corpus/a.txt"), "first file");
        Files.writeString(dir.resolve("corpus/sub/b.txt"), "second file ✓");
        Files.writeString(dir.resolve("corpus/lines.jsonl"),
                "{\"id\":\"j1\",\"text\":\"json one\",\"attributes\":{\"lang\":\"en\"}}\n\n{\"id\":\"j2\",\"text\":\"json two\"}\n");
        String[] connection = {"--bootstrap", platform.bootstrapServers(), "--registry", platform.registryUrl()};

        int ingest = LlmstreamCommand.commandLine().execute(concat(new String[] {"ingest", "--topic", "ingest-docs"},
                connection, new String[] {dir.resolve("corpus").toString()}));
        assertThat(ingest).isZero();

        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertThat(LlmstreamCommand.commandLine().execute(concat(new String[] {"dump", "--topic", "ingest-docs",
                    "--timeout", "3"}, connection, new String[0]))).isZero();
        } finally {
            System.setOut(original);
        }
        List<JsonNode> records = new ArrayList<>();
        for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                records.add(JSON.readTree(line));
            }
        }
        assertThat(records).extracting(r -> r.get("key").asText())
                .containsExactlyInAnyOrder("a.txt", "sub/b.txt", "j1", "j2");
        JsonNode b = records.stream().filter(r -> r.get("key").asText().equals("sub/b.txt")).findFirst().orElseThrow();
        assertThat(b.at("/value/text").asText()).isEqualTo("second file ✓");
        JsonNode j1 = records.stream().filter(r -> r.get("key").asText().equals("j1")).findFirst().orElseThrow();
        assertThat(j1.at("/value/attributes/lang").asText()).isEqualTo("en");
    }

    @Test
    void aBadJsonLineIsRefusedWithItsFileAndLine(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"id\":\"ok\",\"text\":\"fine\"}\n{\"id\":\"x\"}\n");
        CommandLine cli = LlmstreamCommand.commandLine();
        java.io.StringWriter err = new java.io.StringWriter();
        cli.setErr(new java.io.PrintWriter(err));
        int code = cli.execute("ingest", "--topic", "ingest-docs", "--bootstrap", platform.bootstrapServers(),
                "--registry", platform.registryUrl(), bad.toString());
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("bad.jsonl:2").contains("\"text\"");
    }

    private static String[] concat(String[]... parts) {
        List<String> all = new ArrayList<>();
        for (String[] p : parts) {
            all.addAll(List.of(p));
        }
        return all.toArray(String[]::new);
    }
}
