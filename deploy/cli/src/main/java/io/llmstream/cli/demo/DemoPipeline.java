package io.llmstream.cli.demo;

import io.llmstream.inference.kafka.InferenceWorker;
import io.llmstream.inference.kafka.WorkerSettings;

import io.llmstream.stream.ingest.DocumentProducer;
import io.llmstream.platform.EmbeddedPlatform;
import io.llmstream.ops.ComponentArgs;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.InferenceResult;
import io.llmstream.schemas.ResultStatus;
import io.llmstream.schemas.TokenizedDocument;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.stream.StreamSettings;
import io.llmstream.stream.TokenizerStreamApp;
import io.llmstream.tokenizer.BpeTrainer;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.trainer.LlamaConfig;
import io.llmstream.trainer.ModelVersions;
import io.llmstream.trainer.TrainerApp;
import io.llmstream.trainer.TrainerSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * One run of the demo: platform, corpus, tokenizer training, the stream app, the trainer, the inference worker, and a
 * summary counted from the topics. Stages report to {@code log} (stderr); the trainer draws its progress bar there.
 */
public final class DemoPipeline implements AutoCloseable {
    /** Text of the corpus the BPE vocabulary is learnt from: a sample is enough for a small vocabulary. */
    private static final long TOKENIZER_SAMPLE_CHARS = 4L << 20;
    /** How long the demo waits for a stage that has stopped making progress before it gives up. */
    private static final Duration STALL = Duration.ofSeconds(120);

    private final DemoOptions options;
    private final PrintStream log;
    private final String runId = Long.toString(System.currentTimeMillis(), 36);
    private final Map<String, Double> stageSeconds = new LinkedHashMap<>();
    private final Map<String, Double> throughput = new LinkedHashMap<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private EmbeddedPlatform platform;
    private String bootstrap;
    private String registryUrl;

    /** The folder of the work directory that holds the trained model versions, the part a user keeps. */
    public static final String MODELS = "models";

    public DemoPipeline(DemoOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    /** Runs every stage and returns the summary; the platform stays up until {@link #close()}. */
    public DemoSummary run() throws IOException, InterruptedException {
        Files.createDirectories(options.workDir());
        DemoTopics topics = startPlatform();
        DemoCorpus corpus = stage("corpus", this::corpus);
        produce(corpus, topics);
        throughput.put("corpus", corpus.training().size() / stageSeconds.get("corpus"));
        Path tokenizerJson = options.workDir().resolve("tokenizer.json");
        Tokenizer tokenizer = stage("tokenizer", () -> trainTokenizer(corpus, tokenizerJson));

        long streamStart = System.nanoTime();
        TokenizerStreamApp training = track(TokenizerStreamApp.start(streamSettings(topics, tokenizerJson, false, tokenizer)));
        TokenizerStreamApp heldOut = track(TokenizerStreamApp.start(streamSettings(topics, tokenizerJson, true, tokenizer)));
        StreamWatch watch = track(new StreamWatch(bootstrap, Map.of(
                applicationId(false), topics.documents(), applicationId(true), topics.heldOut())));

        long trainStart = System.nanoTime();
        TrainRun train = train(topics, tokenizerJson);
        stageSeconds.put("train", seconds(trainStart));

        watch.awaitCaughtUp(STALL);
        stageSeconds.put("stream", (watch.caughtUpAtNanos() - streamStart) / 1e9);
        training.close();
        heldOut.close();

        TopicReader reader = track(new TopicReader(bootstrap, registryUrl));
        long requests = reader.count(topics.requests());
        long inferenceStart = System.nanoTime();
        List<InferenceResult> results = serve(topics, train.modelDir(), requests, reader);
        stageSeconds.put("inference", seconds(inferenceStart));

        long[] tokens = {0};
        reader.forEach(topics.tokens(), TokenizedDocument.class, t -> tokens[0] += t.getIds().size());
        long windows = reader.count(topics.windows());
        throughput.put("stream", tokens[0] / stageSeconds.get("stream"));
        throughput.put("train", train.tokens() / stageSeconds.get("train"));
        long generated = results.stream().mapToLong(InferenceResult::getGeneratedTokens).sum();
        // a classification generates nothing: its rate is results per second
        throughput.put("inference", (generated > 0 ? generated : results.size()) / stageSeconds.get("inference"));
        Map<String, Double> stages = new LinkedHashMap<>();
        for (String stage : List.of("platform", "corpus", "tokenizer", "stream", "train", "inference")) {
            stages.put(stage, stageSeconds.get(stage));
        }
        return new DemoSummary(corpus.training().size() + corpus.heldOut().size(), tokens[0], windows, train.steps(),
                train.loss(), train.validationLoss(), requests, results.size(),
                results.stream().filter(r -> r.getStatus() == ResultStatus.ERROR).count(), generated,
                accuracy(corpus, results), stages, throughput,
                train.modelDir().toAbsolutePath().toString(), bootstrap, registryUrl, topics,
                samples(corpus, results, tokenizer, options.windowLength() - options.maxNewTokens()));
    }

    /** The embedded platform (or the given cluster) with this run's topics created. */
    private DemoTopics startPlatform() throws InterruptedException {
        long start = System.nanoTime();
        DemoTopics topics;
        if (options.embedded()) {
            platform = EmbeddedPlatform.builder().dataDir(options.workDir().resolve("platform")).start();
            bootstrap = platform.bootstrapServers();
            registryUrl = platform.registryUrl();
            topics = DemoTopics.withPrefix("");
        } else {
            bootstrap = options.bootstrap();
            registryUrl = options.registry();
            topics = DemoTopics.withPrefix("demo-" + runId + ".");
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            topics.layout().create(admin, options.partitions());
        }
        stageSeconds.put("platform", seconds(start));
        log.printf("demo: kafka %s, schema registry %s (%.1f s)%n", bootstrap, registryUrl, stageSeconds.get("platform"));
        return topics;
    }

    private DemoCorpus corpus() throws IOException {
        return options.synthetic()
                ? DemoCorpus.synthetic(new ReversalTask(options.seed(), options.minLetters(), options.maxLetters()),
                        options.documents(), options.heldOut(), options.form())
                : DemoCorpus.files(options.input());
    }

    private void produce(DemoCorpus corpus, DemoTopics topics) {
        long start = System.nanoTime();
        try (SchemaRegistryClient registry = HttpSchemaRegistryClient.fromConfig(Map.of(ComponentArgs.REGISTRY_KEY, registryUrl));
             KafkaProducer<String, Document> producer = DocumentProducer.create(Map.of("bootstrap.servers", bootstrap), registry)) {
            DocumentProducer.sendAll(producer, topics.documents(), corpus.training());
            DocumentProducer.sendAll(producer, topics.heldOut(), corpus.heldOut());
        }
        stageSeconds.merge("corpus", seconds(start), Double::sum);
        log.printf("demo: %,d training documents to '%s', %,d held-out prompts to '%s'%n", corpus.training().size(),
                topics.documents(), corpus.heldOut().size(), topics.heldOut());
    }

    /** Learns the BPE vocabulary from a sample of the training documents and writes it to {@code file}. */
    private Tokenizer trainTokenizer(DemoCorpus corpus, Path file) {
        List<String> sample = new ArrayList<>();
        long chars = 0;
        for (Document doc : corpus.training()) {
            if (chars >= TOKENIZER_SAMPLE_CHARS) {
                break;
            }
            String text = doc.getText() + doc.getAttributes().getOrDefault(DemoCorpus.RESPONSE, "")
                    + doc.getAttributes().getOrDefault(DemoCorpus.LABEL, "");
            sample.add(text);
            chars += text.length();
        }
        BpeTrainer.Result result = BpeTrainer.builder().vocabSize(options.vocabSize()).build().train(sample);
        result.writeJson(file);
        log.printf("demo: BPE tokenizer of %d tokens learnt from %,d characters -> %s%n", result.tokenizer().vocabSize(),
                chars, file);
        return result.tokenizer();
    }

    /** Settings of the stream app for training documents, or for held-out documents (requests instead of windows). */
    private Settings streamSettings(DemoTopics topics, Path tokenizerJson, boolean heldOut, Tokenizer tokenizer) {
        Map<String, String> s = new TreeMap<>(StreamSettings.defaults());
        connection(s);
        s.put("tokenizer", tokenizerJson.toString());
        s.put("topic.documents", heldOut ? topics.heldOut() : topics.documents());
        s.put("topic.tokens", topics.tokens());
        s.put("topic.windows", topics.windows());
        s.put("topic.requests", topics.requests());
        s.put("topic.dead-letters", topics.deadLetters());
        s.put("windows.enabled", Boolean.toString(!heldOut));
        s.put("windows.length", Integer.toString(options.windowLength()));
        // an example per synthetic document, each in a window of its own at position 0; free text packed, nothing wasted
        s.put("windows.mode", options.synthetic() ? "per-document" : "packed");
        s.put("windows.tail", "pad");
        if (options.form() == DemoOptions.Form.INSTRUCT) {
            s.put("windows.response.attribute", DemoCorpus.RESPONSE); // the prompt as requests.* builds it
        }
        if (options.form() == DemoOptions.Form.CLASSIFY) {
            // a window per labelled document, read by the head where CLASSIFY requests will be read
            s.put("windows.label.attribute", DemoCorpus.LABEL);
            s.put("requests.task", "classify");
            s.put("requests.labels", String.join(",", ReversalTask.LABELS));
        }
        s.put("requests.enabled", Boolean.toString(heldOut));
        s.put("requests.template", "{text}");
        s.put("requests.max.prompt.tokens", Integer.toString(options.windowLength() - options.maxNewTokens()));
        s.put("requests.truncate", "right");
        s.put("requests.max.new.tokens", Integer.toString(options.maxNewTokens()));
        // the synthetic task answers on one line; a free text corpus runs to the length limit or the separator
        s.put("requests.stop.ids", options.synthetic() ? Integer.toString(tokenizer.encode("\n")[0]) : "");
        s.put("ops.port", "-1");
        s.put("kafka.application.id", applicationId(heldOut));
        s.put("kafka.state.dir", options.workDir().resolve("streams-state").toString());
        return Settings.of(s);
    }

    private String applicationId(boolean heldOut) {
        return "llmstream-demo-" + (heldOut ? "held-out-" : "") + runId;
    }

    /** Trains on the windows as the stream app writes them; exports and publishes the model at the end. */
    private TrainRun train(DemoTopics topics, Path tokenizerJson) throws IOException {
        Map<String, String> s = new TreeMap<>(TrainerSettings.defaults());
        connection(s);
        s.put("tokenizer", tokenizerJson.toString());
        s.put("model.name", "demo");
        s.put("model.context.length", Integer.toString(options.windowLength()));
        s.put("train.sequence.length", Integer.toString(options.windowLength()));
        s.put("model.type", options.modelType());
        if (options.modelType().equals(LlamaConfig.TYPE) && options.heads() % 2 == 0) {
            s.put("model.kv.heads", Integer.toString(options.heads() / 2)); // grouped-query attention (llama only)
        }
        s.put("model.layers", Integer.toString(options.layers()));
        s.put("model.heads", Integer.toString(options.heads()));
        s.put("model.d.model", Integer.toString(options.dModel()));
        s.put("model.d.ff", Integer.toString(4 * options.dModel()));
        if (options.form() == DemoOptions.Form.CLASSIFY) {
            s.put("classify.labels", String.join(",", ReversalTask.LABELS));
        }
        s.put("train.batch.size", Integer.toString(options.batchSize()));
        s.put("train.steps", Integer.toString(options.trainSteps()));
        s.put("train.learning.rate", Double.toString(options.learningRate()));
        s.put("train.min.learning.rate", Double.toString(options.learningRate() / 10));
        s.put("train.warmup.steps", Integer.toString(Math.max(1, options.trainSteps() / 20)));
        s.put("train.seed", Long.toString(options.seed()));
        // validation loss four times, the last one at the final step
        s.put("eval.interval", Integer.toString(Math.max(1, options.trainSteps() / 4)));
        s.put("eval.max.windows", "128");
        s.put("checkpoint.interval", Integer.toString(options.trainSteps()));
        s.put("checkpoint.dir", options.workDir().resolve("checkpoints").toString());
        s.put("export.interval", "0");
        s.put("models.root", options.workDir().resolve(MODELS).toString());
        s.put("topic.windows", topics.windows());
        s.put("topic.models", topics.models());
        s.put("topic.dead-letters", topics.deadLetters());
        // a corpus too small for the steps asked ends training once no window has come for a while
        s.put("windows.idle.timeout.ms", "20000");
        s.put("ops.port", "-1");
        s.put("kafka.group.id", "llmstream-demo-trainer-" + runId);
        TrainerApp.configureEngine();
        try (TrainerApp app = TrainerApp.kafka(Settings.of(s))) {
            TrainerApp.Outcome outcome = app.run();
            if (outcome.exports().isEmpty()) {
                throw new IllegalStateException("the trainer exported no model: no training window arrived");
            }
            ModelVersions.Exported model = outcome.exports().get(outcome.exports().size() - 1);
            Map<String, Double> metrics = app.trainer().metrics();
            log.printf("demo: model %s:%s published to '%s' -> %s%n", model.manifest().name(),
                    model.manifest().version(), topics.models(), model.directory());
            return new TrainRun(outcome.step(), outcome.step() * app.trainer().config().tokensPerStep(),
                    metrics.getOrDefault("train_loss", Double.NaN), metrics.getOrDefault("validation_loss", Double.NaN),
                    model.directory());
        }
    }

    private record TrainRun(long steps, long tokens, double loss, double validationLoss, Path modelDir) {}

    /** Runs the inference worker on the model until every request has its result. */
    private List<InferenceResult> serve(DemoTopics topics, Path modelDir, long requests, TopicReader reader)
            throws InterruptedException {
        Map<String, String> s = new TreeMap<>(WorkerSettings.defaults());
        connection(s);
        s.put("model.dir", modelDir.toString());
        s.put("models.watch", "false");
        s.put("max.batch.size", "32");
        s.put("topic.requests", topics.requests());
        s.put("topic.results", topics.results());
        s.put("topic.models", topics.models());
        s.put("topic.dead-letters", topics.deadLetters());
        s.put("instance.id", "demo-" + runId);
        s.put("ops.port", "-1");
        s.put("kafka.group.id", "llmstream-demo-inference-" + runId);
        try (InferenceWorker worker = InferenceWorker.start(Settings.of(s))) {
            List<InferenceResult> results = reader.awaitResults(topics.results(), requests, STALL);
            log.printf("demo: %,d results on '%s'%n", results.size(), topics.results());
            return results;
        }
    }

    private void connection(Map<String, String> settings) {
        settings.put(ComponentArgs.BOOTSTRAP_KEY, bootstrap);
        settings.put(ComponentArgs.REGISTRY_KEY, registryUrl);
    }

    private static Double accuracy(DemoCorpus corpus, List<InferenceResult> results) {
        if (!corpus.checkable()) {
            return null;
        }
        long correct = results.stream()
                .filter(r -> corpus.isCorrect(r.getRequestId(), answer(r)).orElse(false))
                .count();
        return (double) correct / corpus.heldOut().size();
    }

    /** A few results with the prompt text the model saw (a long document is cut after its first tokens). */
    private static List<DemoSummary.Sample> samples(DemoCorpus corpus, List<InferenceResult> results,
                                                    Tokenizer tokenizer, int maxPromptTokens) {
        Map<String, String> prompts = new HashMap<>();
        corpus.heldOut().forEach(d -> prompts.put(d.getId(),
                d.getText().substring(0, tokenizer.truncate(d.getText(), maxPromptTokens).charOffset())));
        return results.stream()
                .sorted(Comparator.comparing(InferenceResult::getRequestId))
                .limit(5)
                .map(r -> {
                    String text = answer(r);
                    String prompt = prompts.getOrDefault(r.getRequestId(), r.getRequestId());
                    return new DemoSummary.Sample(abbreviate(prompt), text,
                            corpus.isCorrect(r.getRequestId(), text).orElse(null));
                })
                .toList();
    }

    /** What a result answers: the label of a classification, else the generated text. */
    private static String answer(InferenceResult r) {
        return r.getLabel() != null ? r.getLabel() : r.getText() == null ? "" : r.getText();
    }

    private static String abbreviate(String text) {
        String line = text.replace('\n', ' ');
        return line.length() <= 60 ? line : "..." + line.substring(line.length() - 57);
    }

    private <T> T stage(String name, StageBody<T> body) throws IOException {
        long start = System.nanoTime();
        T result = body.run();
        stageSeconds.merge(name, seconds(start), Double::sum);
        return result;
    }

    @FunctionalInterface
    private interface StageBody<T> {
        T run() throws IOException;
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private static double seconds(long startNanos) {
        return Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
    }

    /** The platform this run talks to, for {@code --keep}. */
    public String bootstrap() {
        return bootstrap;
    }

    public String registryUrl() {
        return registryUrl;
    }

    /** Stops what is still running, the embedded platform last. */
    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                log.println("demo: closing " + resources.get(i).getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        resources.clear();
        if (platform != null) {
            platform.close();
            platform = null;
        }
    }
}
