package io.llmstream.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.platform.testing.TestClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    @Test
    void readCommittedSeesCommittedTransactionsButNotAbortedOnes() {
        String topic = "transactions";
        kafka.createTopic(topic, 1, Map.of());
        try (KafkaProducer<String, String> producer = TestClients.producer(kafka.bootstrapServers(),
                Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "embedded-kafka-test"))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "committed-1"));
            producer.send(new ProducerRecord<>(topic, "k", "committed-2"));
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "aborted"));
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "committed-3"));
            producer.commitTransaction();
        }

        assertThat(TestClients.readUntil(kafka.bootstrapServers(), "read_committed", topic, "committed-3"::equals))
                .containsExactly("committed-1", "committed-2", "committed-3");
        // The aborted record did reach the log: only the isolation level hides it.
        assertThat(TestClients.readUntil(kafka.bootstrapServers(), "read_uncommitted", topic, "committed-3"::equals))
                .containsExactly("committed-1", "committed-2", "aborted", "committed-3");
    }

    @Test
    void waitingForTopicsToBeServedWaitsOutTheMomentTheyAreUnknown() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try {
                    TopicLayout.awaitServed(admin, List.of("not-yet"));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500);
            assertThat(served).isNotDone(); // the topic is unknown to every broker: a retriable answer
            admin.createTopics(List.of(new NewTopic("not-yet", 2, (short) 1))).all().get();
            served.get(30, TimeUnit.SECONDS);
            assertThat(TopicLayout.endOffsets(admin, List.of("not-yet"))).hasSize(2);
        }
    }

    @Test
    void createTopicReportsWhetherItCreatedTheTopic() {
        assertThat(kafka.createTopic("compacted", 3, Map.of("cleanup.policy", "compact"))).isTrue();
        assertThat(kafka.createTopic("compacted", 3, Map.of("cleanup.policy", "compact"))).isFalse();
    }

    @Test
    void aPersistentDirectoryKeepsTopicsRecordsAndPortAcrossRestarts(@TempDir Path dir) {
        String firstAddress;
        try (EmbeddedKafka first = EmbeddedKafka.builder().dataDir(dir).start();
                KafkaProducer<String, String> producer = TestClients.producer(first.bootstrapServers(), Map.of())) {
            firstAddress = first.bootstrapServers();
            first.createTopic("kept", 1, Map.of());
            producer.send(new ProducerRecord<>("kept", "k", "survives a restart"));
            producer.flush();
        }
        assertThat(dir.resolve("cluster.id")).exists();

        try (EmbeddedKafka second = EmbeddedKafka.builder().dataDir(dir).start()) {
            assertThat(second.bootstrapServers()).isEqualTo(firstAddress);
            assertThat(second.createTopic("kept", 1, Map.of())).isFalse();
            assertThat(TestClients.readUntil(second.bootstrapServers(), "read_committed", "kept", v -> true))
                    .containsExactly("survives a restart");
        }
        assertThat(Files.isDirectory(dir.resolve("logs"))).isTrue();
    }
}
