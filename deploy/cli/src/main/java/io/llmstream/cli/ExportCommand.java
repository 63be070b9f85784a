package io.llmstream.cli;

import io.llmstream.trainer.ModelVersions;
import io.llmstream.trainer.TrainerApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code llmstream export}: a trainer checkpoint as a model directory the inference worker loads. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a trainer checkpoint as a model directory (model.onnx, tokenizer.json, model.json, genai_config.json).")
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
            description = "A checkpoint (step-...) or a checkpoint directory (its newest intact checkpoint is used).")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The model directory to write; must not exist.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out)) {
            throw new ParameterException(spec.commandLine(), "--out " + out + " exists already; model versions are immutable");
        }
        TrainerApp.configureEngine();
        ModelVersions.Exported exported = ModelVersions.fromCheckpoint(checkpoint, out);
        System.out.println(exported.directory().toAbsolutePath());
        System.err.println("export: " + exported.manifest().name() + " " + exported.manifest().version() + ", files "
                + exported.manifest().files().keySet());
        return 0;
    }
}
