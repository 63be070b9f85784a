package io.llmstream.deploy;

import io.llmstream.deploy.cli.BenchCommand;
import io.llmstream.deploy.cli.DemoCommand;
import io.llmstream.deploy.cli.DetokenizeCommand;
import io.llmstream.deploy.cli.DumpCommand;
import io.llmstream.deploy.cli.ExportCommand;
import io.llmstream.deploy.cli.GenerateCommand;
import io.llmstream.deploy.cli.IngestCommand;
import io.llmstream.deploy.cli.PlatformCommand;
import io.llmstream.deploy.cli.ServeCommand;
import io.llmstream.deploy.cli.StreamCommand;
import io.llmstream.deploy.cli.TokenizeCommand;
import io.llmstream.deploy.cli.TokenizerTrainCommand;
import io.llmstream.deploy.cli.TrainCommand;
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
