package io.llmstream.cli;

import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;

import io.llmstream.bench.InferenceBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.common.utils.Utils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llmstream bench infer}: generated tokens/s of the naive loop (no KV cache, one request at a time), batches of
 * 1, 8 and 32 with the cache, and continuous batching on a mixed-length workload, all on the same model in one run.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = "Inference throughput: naive loop vs KV-cache batches of 1, 8, 32 vs continuous batching; padding waste.")
public final class BenchInferCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR",
            description = "A model directory; default: a demo-size decoder (4 layers x 128, context 256, cl100k_base) with random weights.")
    Path model;

    @Option(names = "--variant", paramLabel = "V", description = "The graph of a directory that holds several (fp32, fp16, q4, int8, ...; see generate --variant).")
    String variant;

    @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--json", description = "Print the figures as one JSON object on the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path temporary = model == null ? Files.createTempDirectory("llmstream-bench-infer") : null;
        InferenceBenchmark.Result r;
        try {
            Path dir = model != null ? model : InferenceBenchmark.randomModel(temporary, 256, 4, 4, 128, 512);
            try (DecoderModel decoder = ModelLoader.load(dir, new RuntimeOptions(RuntimeOptions.cpu().provider(), 0, threads, variant))) {
                r = InferenceBenchmark.run(decoder, InferenceBenchmark.Workload.standard());
            }
        } finally {
            if (temporary != null) {
                Utils.delete(temporary.toFile()); // the random model's 50 MB
            }
        }
        System.out.printf(Locale.ROOT, "model %s (%s) on %s; generated tokens/s (batches of 1, 8, 32 take turns: medians over"
                + " the rounds, ratios within each round):%n", r.model(), r.graph(), r.provider());
        System.out.printf(Locale.ROOT, "  naive (no cache, one at a time) %8.0f%n", r.naive());
        System.out.printf(Locale.ROOT, "  batch 1                         %8.0f  (%.1fx naive)%n", r.batch1(), r.batch1() / r.naive());
        System.out.printf(Locale.ROOT, "  batch 8                         %8.0f  (%.1fx batch 1)%n", r.batch8(), r.batch8Speedup());
        System.out.printf(Locale.ROOT, "  batch 32                        %8.0f  (%.1fx batch 1)%n", r.batch32(), r.batch32Speedup());
        System.out.printf(Locale.ROOT, "  continuous, mixed lengths       %8.0f  (padding waste %.0f%%)%n", r.continuous(),
                100 * r.paddingWaste());
        if (json) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("naive", r.naive());
            figures.put("batch1", r.batch1());
            figures.put("batch8", r.batch8());
            figures.put("batch32", r.batch32());
            figures.put("batch8Speedup", r.batch8Speedup());
            figures.put("batch32Speedup", r.batch32Speedup());
            figures.put("continuous", r.continuous());
            figures.put("paddingWaste", r.paddingWaste());
            figures.put("model", r.model());
            figures.put("graph", r.graph());
            figures.put("provider", r.provider());
            BenchCommand.printJson(System.out, figures);
        }
        return 0;
    }
}
