package io.llmstream.cli;

import io.llmstream.trainer.TrainerApp;
import io.llmstream.bench.TrainerBenchmark;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmstream bench train}: training tokens/s and model FLOPs utilisation against a matmul measured in the same run. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trainer throughput (tokens/s) and MFU for a tiny and a ~10M-parameter model of each architecture (GPT-2, Llama), vs matmul GFLOP/s in the same run.")
public final class BenchTrainCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print the figures as one JSON object on the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        TrainerApp.configureEngine();
        List<TrainerBenchmark.Result> results = TrainerBenchmark.run();
        for (TrainerBenchmark.Result r : results) {
            System.out.printf(Locale.ROOT, "%-16s %,11d params  %9.0f tokens/s  %6.1f model GFLOP/s  matmul %6.1f GFLOP/s"
                            + "  MFU %.2f%n", r.name(), r.parameters(), r.tokensPerSecond(), r.modelGflops(),
                    r.matmulGflops(), r.mfu());
        }
        if (json) {
            System.out.println(TrainerBenchmark.toJson(results));
        }
        return 0;
    }
}
