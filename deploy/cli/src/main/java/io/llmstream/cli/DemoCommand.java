package io.llmstream.cli;

import io.llmstream.cli.demo.DemoOptions;
import io.llmstream.cli.demo.DemoPipeline;
import io.llmstream.cli.demo.DemoSummary;
import io.llmstream.ops.FileTrees;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llmstream demo}: the whole pipeline on the embedded platform (or a given cluster): a corpus to
 * {@code documents}, a BPE tokenizer learnt from it, the stream app, the trainer, the inference worker on held-out
 * prompts, and a summary. Exit code 0 only when every request got a result.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline: corpus -> documents -> tokenizer-stream -> trainer -> model -> inference worker,",
                "on an embedded Kafka broker and schema registry (or --bootstrap/--registry), then print a summary.",
                "The default corpus is a synthetic task (reverse a few letters) whose held-out answers are checked."})
public final class DemoCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--input", paramLabel = "PATH", arity = "1..*",
            description = "Your files, directories or .jsonl instead of the synthetic corpus (every 20th document held out as a prompt).")
    List<Path> input = new ArrayList<>();

    @Option(names = "--documents", defaultValue = "110000", paramLabel = "N", description = "Synthetic training documents (default: ${DEFAULT-VALUE}).")
    int documents;

    @Option(names = "--held-out", defaultValue = "200", paramLabel = "N", description = "Synthetic held-out prompts (default: ${DEFAULT-VALUE}).")
    int heldOut;

    @Option(names = "--steps", defaultValue = "1500", paramLabel = "N", description = "Training steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch-size", defaultValue = "64", paramLabel = "N", description = "Windows per training step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--window-length", paramLabel = "N", description = "Training window length and model context (default: 16 for the synthetic task, 64 for --input).")
    Integer windowLength;

    @Option(names = "--model-type", defaultValue = "gpt2", paramLabel = "TYPE", description = "Decoder architecture: gpt2 or llama (default: ${DEFAULT-VALUE}).")
    String modelType;

    @Option(names = "--instruct", description = "The synthetic task as instruction data: prompts with the answer as their response attribute, trained on the answers only.")
    boolean instruct;

    @Option(names = "--classify", description = "The synthetic task as classification: letter sequences labelled by whether they hold a vowel, a classification head trained on them, the held-out ones answered by CLASSIFY requests.")
    boolean classify;

    @Option(names = "--layers", defaultValue = "2", paramLabel = "N", description = "Decoder blocks (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--d-model", defaultValue = "128", paramLabel = "N", description = "Embedding width (default: ${DEFAULT-VALUE}).")
    int dModel;

    @Option(names = "--learning-rate", defaultValue = "2e-3", paramLabel = "LR", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--min-letters", defaultValue = "3", paramLabel = "N", description = "Shortest sequence to reverse (default: ${DEFAULT-VALUE}).")
    int minLetters;

    @Option(names = "--max-letters", defaultValue = "5", paramLabel = "N", description = "Longest sequence to reverse (default: ${DEFAULT-VALUE}).")
    int maxLetters;

    @Option(names = "--vocab-size", defaultValue = "512", paramLabel = "N", description = "BPE vocabulary size (default: ${DEFAULT-VALUE}).")
    int vocabSize;

    @Option(names = "--seed", defaultValue = "7", paramLabel = "S", description = "Seed of the corpus and of training (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the tokenizer, checkpoints, Kafka logs and models go, all kept (default: a new temporary directory of which only the models are kept).")
    Path workDir;

    @Option(names = "--bootstrap", paramLabel = "SERVERS", description = "Use this Kafka cluster instead of the embedded broker (topics get a per-run prefix).")
    String bootstrap;

    @Option(names = "--registry", paramLabel = "URL", description = "The schema registry of that cluster.")
    String registry;

    @Option(names = "--keep", description = "Leave the embedded platform running after the summary (Ctrl-C to stop), for 'llmstream dump'; keeps the work directory.")
    boolean keep;

    @Option(names = "--json", description = "Print the summary as one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        boolean synthetic = input.isEmpty();
        int window = windowLength != null ? windowLength : synthetic ? 16 : 64;
        // a reversal answer is at most 5 letters and a newline; free text gets a short continuation
        int maxNewTokens = synthetic ? 8 : Math.min(16, window / 2);
        if (instruct && classify) {
            throw new ParameterException(spec.commandLine(), "--instruct and --classify are two forms of the task: pick one");
        }
        DemoOptions.Form form = instruct ? DemoOptions.Form.INSTRUCT
                : classify ? DemoOptions.Form.CLASSIFY : DemoOptions.Form.TEXT;
        DemoOptions options;
        Path dir = workDir != null ? workDir : Files.createTempDirectory("llmstream-demo-");
        try {
            options = new DemoOptions(documents, heldOut, minLetters, maxLetters, input, vocabSize, window, modelType,
                    form, layers, 4, dModel, batchSize, steps, learningRate, maxNewTokens, 3, seed, dir, bootstrap,
                    registry);
        } catch (IllegalArgumentException e) {
            tidyUp(dir);
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        try {
            return run(options);
        } finally {
            tidyUp(dir); // once the platform is closed
        }
    }

    private int run(DemoOptions options) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (DemoPipeline pipeline = new DemoPipeline(options, System.err)) {
            DemoSummary summary = pipeline.run();
            if (json) {
                out.println(summary.toJson());
            } else {
                summary.print(out);
            }
            out.flush();
            if (keep) {
                System.err.printf("demo: platform left running (kafka %s, registry %s); Ctrl-C to stop%n",
                        pipeline.bootstrap(), pipeline.registryUrl());
                awaitShutdown(pipeline);
            }
            return summary.complete() ? 0 : 1;
        }
    }

    /** A temporary work directory keeps only its models, unless {@code --work-dir} or {@code --keep} keep everything. */
    private void tidyUp(Path dir) throws IOException {
        if (workDir == null && !keep) {
            keepOnlyModels(dir, System.err);
        }
    }

    /**
     * Removes all of a run's work directory but its models (the Kafka logs, checkpoints and stream state are tens of
     * megabytes nobody asked for), and says where the models are; with no models, removes the directory.
     */
    static void keepOnlyModels(Path dir, PrintStream log) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        Path models = dir.resolve(DemoPipeline.MODELS);
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : children.filter(c -> !c.equals(models)).toList()) {
                FileTrees.delete(child);
            }
        }
        if (Files.isDirectory(models)) {
            log.println("demo: models kept in " + models.toAbsolutePath() + "; the rest of the run (Kafka logs, "
                    + "checkpoints, stream state) removed; --work-dir DIR keeps everything");
        } else {
            Files.delete(dir);
        }
    }

    /** Blocks until Ctrl-C / SIGTERM, whose hook closes the platform. */
    private static void awaitShutdown(DemoPipeline pipeline) throws InterruptedException {
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            pipeline.close();
            closed.countDown();
        }, "llmstream-demo-shutdown"));
        closed.await();
    }
}
