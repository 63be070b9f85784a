package io.llmstream.trainer;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;

/**
 * What a training run is besides its weights: the model's name and the tokenizer its ids belong to. Kept next to the
 * checkpoints ({@code run.json}, plus a copy of the tokenizer.json when there is one), so a checkpoint directory is
 * enough to export a model, and a resume with another tokenizer is refused.
 *
 * @param tokenizerJson the HuggingFace tokenizer file to ship with the model; null for a built-in encoding
 */
public record RunInfo(String modelName, String tokenizerName, String tokenizerFingerprint, SpecialTokens specialTokens,
                      Path tokenizerJson) {

    public static final String FILE = "run.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** How run.json spells it: everything but the tokenizer file, which sits beside it. */
    private record Stored(String modelName, String tokenizerName, String tokenizerFingerprint,
                          SpecialTokens specialTokens) {}

    /**
     * The run of a tokenizer loaded by {@link Tokenizers#load} from {@code nameOrPath}; special tokens are looked up by
     * their strings (an empty or unknown string gives -1).
     */
    public static RunInfo of(String modelName, String nameOrPath, Tokenizer tokenizer, String bos, String eos, String pad) {
        Path file = huggingFaceFile(nameOrPath).orElse(null);
        // a tokenizer file ships in the model directory, so it is named by that file, not by a path on this machine
        String name = file != null ? ModelFiles.TOKENIZER : tokenizer.name();
        return new RunInfo(modelName, name, tokenizer.fingerprint(),
                new SpecialTokens(id(tokenizer, bos), id(tokenizer, eos), id(tokenizer, pad)), file);
    }

    /** The info written by {@link #saveTo}, with the tokenizer copy beside it. */
    public static RunInfo readFrom(Path checkpointRoot) throws IOException {
        Path file = checkpointRoot.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException(checkpointRoot + " has no " + FILE + ": not a trainer checkpoint directory");
        }
        Stored s = JSON.readValue(file.toFile(), Stored.class);
        Path tokenizer = checkpointRoot.resolve(ModelFiles.TOKENIZER);
        return new RunInfo(s.modelName(), s.tokenizerName(), s.tokenizerFingerprint(), s.specialTokens(),
                Files.isRegularFile(tokenizer) ? tokenizer : null);
    }

    /**
     * Records this run in a checkpoint directory. A directory that holds another tokenizer's run is refused: its
     * checkpoints would resume training on ids of a different vocabulary.
     */
    public void saveTo(Path checkpointRoot) throws IOException {
        Files.createDirectories(checkpointRoot);
        Path file = checkpointRoot.resolve(FILE);
        if (Files.isRegularFile(file)) {
            RunInfo existing = readFrom(checkpointRoot);
            if (!existing.tokenizerFingerprint().equals(tokenizerFingerprint)) {
                throw new IllegalStateException("the checkpoints in " + checkpointRoot + " were trained with tokenizer "
                        + existing.tokenizerName() + " (" + existing.tokenizerFingerprint() + "), not "
                        + tokenizerName + " (" + tokenizerFingerprint + "); use another checkpoint.dir");
            }
        }
        if (tokenizerJson != null && !tokenizerJson.toAbsolutePath().equals(
                checkpointRoot.resolve(ModelFiles.TOKENIZER).toAbsolutePath())) {
            replace(checkpointRoot.resolve(ModelFiles.TOKENIZER), Files.readAllBytes(tokenizerJson));
        }
        replace(file, JSON.writeValueAsBytes(new Stored(modelName, tokenizerName, tokenizerFingerprint, specialTokens)));
    }

    /** The manifest details of one version of this run's model. */
    public ModelArtifactWriter.ModelInfo modelInfo(String version, Map<String, Double> metrics) {
        return new ModelArtifactWriter.ModelInfo(modelName, version, specialTokens, tokenizerName, tokenizerFingerprint,
                metrics);
    }

    /** The tokenizer.json behind a name or path as {@link Tokenizers#load} reads it; empty for a built-in encoding. */
    static Optional<Path> huggingFaceFile(String nameOrPath) {
        if (Tokenizers.BUILT_IN.contains(nameOrPath)) {
            return Optional.empty();
        }
        Path path = Path.of(nameOrPath);
        if (Files.isDirectory(path)) {
            path = path.resolve(ModelFiles.TOKENIZER);
        }
        return Files.isRegularFile(path) && !path.getFileName().toString().endsWith(".tiktoken")
                ? Optional.of(path) : Optional.empty();
    }

    private static int id(Tokenizer tokenizer, String token) {
        return token == null || token.isEmpty() ? -1 : tokenizer.specialTokenId(token).orElse(-1);
    }

    /** Atomic replace, so a crash leaves the old file or the new one. */
    private static void replace(Path target, byte[] bytes) throws IOException {
        Path temporary = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.write(temporary, bytes);
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
