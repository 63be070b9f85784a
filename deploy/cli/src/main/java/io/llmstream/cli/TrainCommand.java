package io.llmstream.cli;

import io.llmstream.ops.Settings;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.trainer.ModelVersions;
import io.llmstream.trainer.TrainerApp;
import io.llmstream.trainer.TrainerSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llmstream train}: the trainer on the {@code training-windows} topic until its step limit or Ctrl-C / SIGTERM
 * (which checkpoints first), or offline on a JSON Lines file of windows with {@code --windows --out}.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a decoder (model.type gpt2 or llama, or a HuggingFace checkpoint with --init-from) on the",
                "training-windows topic, checkpointing and publishing model versions,",
                "or offline: --windows FILE (JSON lines {\"tokens\":[..],\"split\":\"TRAIN\"}) --out DIR (the model directory).",
                "Settings: trainer.properties defaults, then --config, LLMSTREAM_* variables, --set, --bootstrap/--registry."})
public final class TrainCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--windows", paramLabel = "FILE", description = "Train offline on this JSON Lines file of windows (needs --out).")
    Path windows;

    @Option(names = "--out", paramLabel = "DIR", description = "Offline: the model directory to write (must not exist); checkpoints go to DIR.checkpoints.")
    Path out;

    @Option(names = "--tokenizer", paramLabel = "NAME|PATH", description = "Built-in encoding or tokenizer.json (overrides the 'tokenizer' setting).")
    String tokenizer;

    @Option(names = "--init-from", paramLabel = "DIR", description = {"Start from this HuggingFace model directory "
            + "(config.json, model.safetensors, tokenizer.json; gpt2, llama or qwen2): its architecture, weights and tokenizer",
            "replace the model.* shape and --tokenizer (the 'init.from' setting). A run with a checkpoint resumes it instead."})
    Path initFrom;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if ((windows == null) != (out == null)) {
            throw new ParameterException(spec.commandLine(), "offline training needs both --windows FILE and --out DIR");
        }
        TrainerApp.configureEngine();
        Settings settings = connection.settings(TrainerSettings.defaults());
        if (tokenizer != null) {
            settings = settings.with("tokenizer", tokenizer);
        }
        if (initFrom != null) {
            settings = settings.with("init.from", initFrom.toString());
        }
        TrainerApp app = windows == null ? TrainerApp.kafka(settings)
                : TrainerApp.offline(settings, windows, settings.string("tokenizer"), out);
        TrainerApp.Outcome outcome = TrainerApp.runUntilDone(app);
        for (ModelVersions.Exported e : outcome.exports()) {
            System.out.println(e.directory().toAbsolutePath());
        }
        System.err.println("train: step " + outcome.step() + (outcome.stopped() ? " (stopped, checkpointed)" : "")
                + ", " + outcome.exports().size() + " model version(s)");
        if (!outcome.exports().isEmpty()) {
            Path last = outcome.exports().get(outcome.exports().size() - 1).directory().toAbsolutePath();
            System.err.println("train: loss curve " + last.resolve(ModelFiles.LOSS_CURVE) + ", metrics "
                    + last.resolve(ModelFiles.METRICS));
        }
        return 0;
    }
}
