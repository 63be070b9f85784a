package io.llmstream.deploy.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code llmstream demo}: a placeholder until the end-to-end demo exists; it says so and fails. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "The end-to-end demo (ingest, tokenize, train, serve) on the embedded platform. Not built yet.")
public final class DemoCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("llmstream demo: not built yet. The embedded platform is ready "
                + "('llmstream platform'); the tokenizer stream, trainer and inference worker are not wired into a demo.");
        return 1;
    }
}
