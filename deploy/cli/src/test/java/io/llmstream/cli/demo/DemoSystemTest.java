package io.llmstream.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.platform.testing.TestPlatform;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The demo flow end to end with small settings: a real broker and registry, both stream applications, the trainer
 * and the worker. Counts are checked against the corpus itself, recomputed here.
 */
class DemoSystemTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Both architectures learn the task from the stream and the worker serves each one's export; the llama run takes
     * the task as instruction data (prompt documents, answers in an attribute, trained on the answers only).
     */
    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"gpt2, TEXT", "llama, INSTRUCT"})
    void syntheticTaskOnTheEmbeddedPlatform(String modelType, DemoOptions.Form form, @TempDir Path dir) throws Exception {
        boolean instruct = form == DemoOptions.Form.INSTRUCT;
        int documents = 90_000; // 1 200 steps of 64 windows, plus the validation share
        int heldOut = 40;
        // the llama block learns this task slower at width 64 (62% held-out after 1 200 steps at lr 2e-3, nothing
        // at 1e-2); at width 128 it answered all 40 (CLI: --model-type llama --d-model 128 --steps 1200 --seed 11)
        boolean llama = modelType.equals("llama");
        DemoOptions options = new DemoOptions(documents, heldOut, 4, 4, List.of(), 512, 16, modelType, form, 2, 4,
                llama ? 128 : 64, 64, 1200, llama ? 2e-3 : 3e-3, 8, 2, 11, dir, null, null);
        DemoSummary summary = run(options);

        assertThat(summary.complete()).isTrue();
        assertThat(summary.requests()).isEqualTo(heldOut);
        assertThat(summary.results()).isEqualTo(heldOut);
        assertThat(summary.documents()).isEqualTo(documents + heldOut);
        // the same seed gives the same corpus: the tokens topic holds exactly its token counts
        DemoCorpus corpus = DemoCorpus.synthetic(new ReversalTask(11, 4, 4), documents, heldOut, form);
        Tokenizer tokenizer = Tokenizers.load(dir.resolve("tokenizer.json").toString());
        long expectedTokens = 0;
        for (Document doc : concat(corpus.training(), corpus.heldOut())) {
            expectedTokens += tokenizer.encode(doc.getText()).length;
        }
        assertThat(summary.tokens()).isEqualTo(expectedTokens);
        // one padded window per training document (an example is 11 tokens)
        assertThat(summary.windows()).isEqualTo(documents);
        assertThat(summary.trainSteps()).isEqualTo(1200);
        assertThat(summary.trainLoss()).isFinite().isLessThan(2.0);
        if (instruct) {
            // the loss covers the answers alone, which the prompt determines (plain text: the prompt's random letters
            // count too, and the loss stays near 0.8); a mask lost between stream, topic and trainer would show here
            assertThat(summary.trainLoss()).isLessThan(0.3);
        }
        assertThat(summary.valLoss()).isFinite().isLessThan(2.0);
        // sequences of 4: offline, every held-out answer was right after 800 steps; fed from Kafka (partitions
        // interleave differently each run) 800 steps gave 70% to 100%, so 1 200, and a bound with room
        assertThat(summary.accuracy()).isGreaterThanOrEqualTo(0.8);
        assertThat(summary.generatedTokens()).isGreaterThanOrEqualTo(heldOut);
        assertThat(Path.of(summary.modelDir()).resolve("model.onnx")).isRegularFile();
        assertThat(summary.samples()).isNotEmpty().allSatisfy(s -> assertThat(s.correct()).isNotNull());
        assertThat(summary.stageSeconds()).containsKeys("platform", "corpus", "tokenizer", "stream", "train", "inference");

        JsonNode json = JSON.readTree(summary.toJson());
        for (String key : List.of("documents", "tokens", "windows", "trainSteps", "trainLoss", "valLoss", "requests",
                "results", "accuracy", "stageSeconds", "throughput", "modelDir")) {
            assertThat(json.has(key)).as(key).isTrue();
        }
        assertThat(json.get("tokens").asLong()).isEqualTo(expectedTokens);
    }

    /**
     * The classification form: labelled letter sequences train a classification head from the stream, and the worker
     * answers the held-out CLASSIFY requests with it.
     */
    @Test
    void classificationOnTheEmbeddedPlatform(@TempDir Path dir) throws Exception {
        int documents = 12_000; // 150 steps of 64 windows, plus the validation share (a tenth) and some to spare
        int heldOut = 60;
        DemoOptions options = new DemoOptions(documents, heldOut, 4, 4, List.of(), 512, 16, "gpt2",
                DemoOptions.Form.CLASSIFY, 2, 4, 64, 64, 150, 3e-3, 8, 2, 11, dir, null, null);
        DemoSummary summary = run(options);

        assertThat(summary.complete()).isTrue();
        assertThat(summary.results()).isEqualTo(heldOut);
        assertThat(summary.errors()).isZero();
        assertThat(summary.windows()).as("one window per labelled document").isEqualTo(documents);
        assertThat(summary.trainSteps()).isEqualTo(150);
        // two labels at chance is ln 2 = 0.69; whether 4 letters hold a vowel is learnt within 75 steps
        assertThat(summary.trainLoss()).isLessThan(0.5);
        assertThat(summary.accuracy()).as("held-out sequences labelled right").isGreaterThanOrEqualTo(0.9);
        assertThat(summary.generatedTokens()).isZero();
        assertThat(summary.samples()).isNotEmpty().allSatisfy(s -> assertThat(s.generated()).isIn(ReversalTask.LABELS));
        ModelManifest manifest = ModelManifest.read(Path.of(summary.modelDir()));
        assertThat(manifest.architecture().classLabels()).containsExactlyElementsOf(ReversalTask.LABELS);
        assertThat(manifest.metrics()).containsKey("validation_accuracy");
    }

    @Test
    void userFilesOnAGivenCluster(@TempDir Path dir) throws Exception {
        Path input = Files.createDirectories(dir.resolve("input"));
        for (int i = 0; i < 40; i++) {
            Files.writeString(input.resolve(String.format("note-%02d.txt", i)),
                    ("Note " + i + ": the broker keeps every record of topic " + (i % 7) + " for seven days.\n").repeat(8));
        }
        try (TestPlatform cluster = TestPlatform.start()) {
            DemoOptions options = new DemoOptions(0, 0, 3, 5, List.of(input), 300, 32, "gpt2", DemoOptions.Form.TEXT, 1, 2, 32, 4, 20, 3e-3, 8, 1, 3,
                    dir.resolve("work"), cluster.bootstrapServers(), cluster.registryUrl());
            DemoSummary summary = run(options);

            assertThat(summary.complete()).isTrue();
            assertThat(summary.documents()).isEqualTo(40);
            assertThat(summary.requests()).isEqualTo(2); // every 20th document is held out
            assertThat(summary.accuracy()).isNull();
            assertThat(summary.topics().documents()).startsWith("demo-").endsWith(".documents");
            assertThat(summary.bootstrap()).isEqualTo(cluster.bootstrapServers());
            assertThat(summary.trainSteps()).isEqualTo(20);
        }
    }

    private static DemoSummary run(DemoOptions options) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (DemoPipeline pipeline = new DemoPipeline(options, new PrintStream(log, true, StandardCharsets.UTF_8))) {
            return pipeline.run();
        } finally {
            System.err.print(log.toString(StandardCharsets.UTF_8));
        }
    }

    private static List<Document> concat(List<Document> a, List<Document> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
