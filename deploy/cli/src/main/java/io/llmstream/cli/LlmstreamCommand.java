package io.llmstream.cli;

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
            PublishCommand.class,
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

    /** The command line as {@code main} runs it: users' mistakes end in one line on stderr (see {@link UserErrors}). */
    public static CommandLine commandLine() {
        return new CommandLine(new LlmstreamCommand()).setExecutionExceptionHandler(new UserErrors());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
