package io.llmstream.cli;

import io.llmstream.stream.StreamSettings;
import io.llmstream.stream.TokenizerStreamApp;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code llmstream stream}: runs the tokenizer-stream application until Ctrl-C / SIGTERM. */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = {"Run the tokenizer-stream application (documents -> tokens, training windows, inference requests).",
                "Settings: tokenizer-stream.properties defaults, then --config, LLMSTREAM_* variables, --set, --bootstrap/--registry."})
public final class StreamCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() throws InterruptedException {
        TokenizerStreamApp.runUntilShutdown(connection.settings(StreamSettings.defaults()));
        return 0;
    }
}
