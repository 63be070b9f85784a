package io.llmstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llmstream bench}: benchmarks that measure contenders side by side in one run and print ratios; with
 * {@code --json} the last line is one JSON object with the figures.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks (side by side in one run; --json prints the figures as one JSON object on the last line).",
        subcommands = {BenchTokenizerCommand.class, BenchStreamCommand.class, BenchTrainCommand.class,
            BenchInferCommand.class})
public final class BenchCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing benchmark: choose one of " + spec.subcommands().keySet());
    }

    /** Prints the figures (a record or map) as one JSON line. */
    static void printJson(PrintStream out, Object figures) {
        try {
            out.println(JSON.writeValueAsString(figures));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render benchmark figures as JSON", e);
        }
    }

    /** The machine the figures were measured on, for docs/BENCHMARKS.md. */
    static Map<String, Object> machine() {
        return Map.of(
                "cores", Runtime.getRuntime().availableProcessors(),
                "maxHeapMB", Runtime.getRuntime().maxMemory() >> 20,
                "java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                "os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }
}
