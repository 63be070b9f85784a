package io.llmstream.cli;

import io.llmstream.bench.BenchCorpus;
import io.llmstream.bench.TokenizerBenchmark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmstream bench tokenizer}: ours vs jtokkit vs HuggingFace tokenizers, single thread, same text, same JVM. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Tokenizer throughput (MB/s) of llmstream, jtokkit and HuggingFace tokenizers on the same text; load time, heap, worst cases.")
public final class BenchTokenizerCommand implements Callable<Integer> {
    @Option(names = "--corpus", paramLabel = "FILE", description = "UTF-8 text file; default: synthetic English.")
    Path corpus;

    @Option(names = "--encodings", split = ",", defaultValue = "cl100k_base,o200k_base",
            description = "Encodings to measure (default: ${DEFAULT-VALUE}).")
    List<String> encodings;

    @Option(names = "--mb", defaultValue = "8", description = "Megabytes of the corpus to use (default: ${DEFAULT-VALUE}).")
    int megabytes;

    @Option(names = "--rounds", defaultValue = "5", description = "Timed rounds; the median is reported (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--no-huggingface", description = "Leave HuggingFace tokenizers out.")
    boolean noHuggingFace;

    @Option(names = "--worst-case", description = "Also time 1 MB inputs with no split point.")
    boolean worstCase;

    @Option(names = "--json", description = "Print the figures as one JSON object on the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path text = corpus;
        if (text == null) {
            text = Files.createTempFile("llmstream-bench-corpus", ".txt");
            text.toFile().deleteOnExit();
            Files.writeString(text, String.join("\n", BenchCorpus.synthetic(megabytes * 256, 11)), StandardCharsets.UTF_8);
        }
        TokenizerBenchmark.Result r = TokenizerBenchmark.run(new TokenizerBenchmark.Options(text, encodings, megabytes,
                rounds, !noHuggingFace, worstCase));
        TokenizerBenchmark.print(r);
        if (json) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("benchmark", "tokenizer");
            figures.put("result", r);
            BenchCommand.printJson(System.out, figures);
        }
        return 0;
    }
}
