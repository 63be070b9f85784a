package io.llmstream.cli;

import io.llmstream.cli.BenchCommand;
import io.llmstream.cli.DemoCommand;
import io.llmstream.cli.DetokenizeCommand;
import io.llmstream.cli.DumpCommand;
import io.llmstream.cli.ExportCommand;
import io.llmstream.cli.GenerateCommand;
import io.llmstream.cli.IngestCommand;
import io.llmstream.cli.PlatformCommand;
import io.llmstream.cli.ServeCommand;
import io.llmstream.cli.StreamCommand;
import io.llmstream.cli.TokenizeCommand;
import io.llmstream.cli.TokenizerTrainCommand;
import io.llmstream.cli.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llmstream}: the top-level command. It does nothing by itself; each piece of work is a subcommand, so a new one
 * is a class annotated with {@code @Command} that is added to {@code subcommands} below.
 */
@Command(
        name = "llmstream",
        mixinStandardHelpOptions = true,
        versionProvider = ManifestVersion.class,
        description = "A Kafka-native pipeline for language models.",
        subcommands = {
            DemoCommand.class,
            PlatformCommand.class,
            TokenizeCommand.class,
            TokenizerTrainCommand.class,
            DetokenizeCommand.class,
            IngestCommand.class,
            StreamCommand.class,
            TrainCommand.class,
            ExportCommand.class,
            ServeCommand.class,
            GenerateCommand.class,
            DumpCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class LlmstreamCommand implements Runnable {
    @Spec
    private CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: choose one of " + spec.subcommands().keySet());
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new LlmstreamCommand()).execute(args));
    }
}
