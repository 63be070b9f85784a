package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.platform.testing.TestClients;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class PlatformCommandTest {
    private static final Pattern BOOTSTRAP = Pattern.compile("(?m)^bootstrap: (\\S+)$");
    private static final Pattern REGISTRY = Pattern.compile("(?m)^registry: (\\S+)$");
    private static final Pattern BROKER = Pattern.compile("(?m)^broker (\\d+): port (\\d+), pid (\\d+), data (.+)$");

    @Test
    void platformServesKafkaAndTheRegistryOnThePrintedAddressesUntilStopped() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cli = LlmstreamCommand.commandLine().setOut(new PrintWriter(out, true));
        AtomicInteger exitCode = new AtomicInteger(-1);
        Thread running = new Thread(() -> exitCode.set(cli.execute("platform")), "platform-under-test");
        running.start();

        String printed = awaitLine(out, REGISTRY, running);
        String bootstrap = group(BOOTSTRAP, printed);
        String registry = group(REGISTRY, printed);
        assertThat(bootstrap).startsWith("127.0.0.1:");
        assertThat(registry).startsWith("http://127.0.0.1:");

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
                KafkaProducer<String, String> producer = TestClients.producer(bootstrap, Map.of())) {
            assertThat(admin.listTopics().names().get()).contains("documents", "tokens", "training-windows",
                    "inference-requests", "inference-results", "models", "dead-letters");
            admin.createTopics(List.of(new NewTopic("hello", 1, (short) 1))).all().get();
            RecordMetadata written = producer.send(new ProducerRecord<>("hello", "k", "world")).get();
            assertThat(written.offset()).isZero();
        }
        HttpResponse<String> subjects = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(registry + "/subjects")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(subjects.statusCode()).isEqualTo(200);
        assertThat(subjects.body()).isEqualTo("[]");

        running.interrupt();
        running.join(Duration.ofMinutes(1).toMillis());
        assertThat(running.isAlive()).isFalse();
        assertThat(exitCode).hasValue(0);
    }

    @Test
    void threeBrokersAreThreeProcessesAndOneKilledWithKillNineComesBackOnItsPort() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cli = LlmstreamCommand.commandLine().setOut(new PrintWriter(out, true));
        AtomicInteger exitCode = new AtomicInteger(-1);
        Thread running = new Thread(() -> exitCode.set(cli.execute("platform", "--brokers", "3", "--restart-after",
                "1", "--partitions", "2")), "cluster-under-test");
        running.start();
        String printed = awaitLine(out, Pattern.compile("(?m)^broker 3: "), running);
        String bootstrap = group(BOOTSTRAP, printed);
        Matcher brokers = BROKER.matcher(printed);
        Map<Integer, Long> pids = new java.util.TreeMap<>();
        while (brokers.find()) {
            pids.put(Integer.parseInt(brokers.group(1)), Long.parseLong(brokers.group(3)));
            assertThat(bootstrap).contains("127.0.0.1:" + brokers.group(2));
        }
        assertThat(pids).containsOnlyKeys(1, 2, 3);
        assertThat(pids.values()).doesNotContain(ProcessHandle.current().pid()).doesNotHaveDuplicates();

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
                KafkaProducer<String, String> producer = TestClients.producer(bootstrap, Map.of("acks", "all"))) {
            assertThat(admin.describeTopics(List.of("documents")).allTopicNames().get().get("documents").partitions())
                    .hasSize(2).allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
            ProcessHandle.of(pids.get(2)).orElseThrow().destroyForcibly(); // kill -9
            RecordMetadata written = producer.send(new ProducerRecord<>("documents", "k", "while broker 2 is down"))
                    .get();
            assertThat(written.offset()).isZero();
            TestClients.await("broker 2 restarted and back in sync", Duration.ofMinutes(2), () -> {
                try {
                    return admin.describeTopics(List.of("documents")).allTopicNames().get().get("documents")
                            .partitions().stream().allMatch(p -> p.isr().size() == 3);
                } catch (Exception e) {
                    return false;
                }
            });
        }
        running.interrupt();
        running.join(Duration.ofMinutes(1).toMillis());
        assertThat(exitCode).hasValue(0);
        assertThat(pids.values()).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive))
                .as("broker process %d after the platform stopped", pid).isNotEqualTo(java.util.Optional.of(true)));
    }

    @Test
    void demoRefusesABootstrapWithoutRegistryBeforeStartingAnything() {
        StringWriter err = new StringWriter();
        int code = LlmstreamCommand.commandLine().setErr(new PrintWriter(err, true))
                .execute("demo", "--bootstrap", "127.0.0.1:1");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--bootstrap and --registry go together");
    }

    @Test
    void withoutACommandItExplainsUsageAndFails() {
        StringWriter err = new StringWriter();
        int code = LlmstreamCommand.commandLine().setErr(new PrintWriter(err, true)).execute();
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Missing command").contains("platform");
    }

    private static String awaitLine(StringWriter out, Pattern line, Thread running) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!line.matcher(out.toString()).find()) {
            assertThat(running.isAlive()).as("platform stopped early; printed: %s", out).isTrue();
            assertThat(System.nanoTime()).as("platform did not print its addresses").isLessThan(deadline);
            Thread.sleep(100);
        }
        return out.toString();
    }

    private static String group(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        assertThat(m.find()).as("'%s' in %s", pattern, text).isTrue();
        return m.group(1);
    }
}
