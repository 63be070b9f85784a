package io.llmstream.cli;

import io.llmstream.bench.BenchCorpus;
import io.llmstream.bench.StreamBenchmark;
import io.llmstream.platform.EmbeddedPlatform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.common.utils.Utils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmstream bench stream}: the stream app end to end beside the bare tokenizer, same documents, same run. */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = "Stream app end to end (embedded broker, exactly-once, one stream thread) vs the bare tokenizer.")
public final class BenchStreamCommand implements Callable<Integer> {
    @Option(names = "--corpus", paramLabel = "PATH", description = "A directory (one document per file) or a text file; default: synthetic English.")
    Path corpus;

    @Option(names = "--mb", defaultValue = "128", description = "Megabytes of text to use (default: ${DEFAULT-VALUE}; less leaves the JIT unsettled and the steady state short).")
    int megabytes;

    @Option(names = "--tokenizer", defaultValue = "cl100k_base", description = "Tokenizer (default: ${DEFAULT-VALUE}).")
    String tokenizer;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a stream-app setting for this run; repeatable.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print the figures as one JSON object on the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        long maxBytes = (long) megabytes << 20;
        List<String> docs = corpus != null ? BenchCorpus.load(corpus, maxBytes)
                : BenchCorpus.synthetic((int) (maxBytes / 4096), 7);
        Path state = Files.createTempDirectory("llmstream-bench-stream");
        StreamBenchmark.Result r;
        try (EmbeddedPlatform platform = EmbeddedPlatform.start()) {
            r = StreamBenchmark.run(platform.bootstrapServers(), platform.registryUrl(), tokenizer, docs, state,
                    overrides);
        } finally {
            Utils.delete(state.toFile());
        }
        System.out.printf(Locale.ROOT, "documents           %d (%.1f MB, %s)%n", r.documents(), r.bytes() / 1e6,
                corpus == null ? "synthetic" : corpus);
        System.out.printf(Locale.ROOT, "tokenizer alone     %.1f MB/s%n", r.tokenizerMBps());
        System.out.printf(Locale.ROOT, "stream end to end   %.1f MB/s, %.0f documents/s (steady state over %.1f s;"
                + " start-up %.1f s apart)%n", r.streamMBps(), r.streamDocsPerSecond(), r.streamSeconds(), r.startupSeconds());
        System.out.printf(Locale.ROOT, "ratio               %.0f%% of the bare tokenizer%n", 100 * r.ratio());
        System.out.printf(Locale.ROOT, "per document        stream thread %.1f us of CPU, of which tokenizing %.1f us (%.0f%%);"
                + " the tokenizer alone %.1f us%n", r.streamThreadMicrosPerDocument(), r.streamTokenizeMicrosPerDocument(),
                100 * r.streamTokenizeShare(), r.tokenizerAloneMicrosPerDocument());
        System.out.printf(Locale.ROOT, "cpu, steady state   stream thread busy %.0f%%, whole process %.2f cores (broker included),"
                + " JIT %.2f cores (after %d warm-up passes)%n",
                100 * r.streamThreadBusy(), r.processCores(), r.compilerCores(), r.warmupPasses());
        if (json) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("benchmark", "stream");
            figures.put("tokenizer", tokenizer);
            figures.put("result", r);
            figures.put("machine", BenchCommand.machine());
            BenchCommand.printJson(System.out, figures);
        }
        return 0;
    }
}
