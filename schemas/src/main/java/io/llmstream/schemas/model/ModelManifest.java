package io.llmstream.schemas.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Contents of {@code model.json}, the manifest of a model directory: what the model is, which tokenizer its ids belong
 * to, how it trained, and the SHA-256 of every other file in the directory.
 *
 * @param tokenizerName what {@code io.llmstream.tokenizer.Tokenizers.load} accepts for a built-in encoding (e.g.
 *                      cl100k_base), which has no tokenizer.json in the directory; informative otherwise
 * @param files       lower-case hex SHA-256 by file name relative to the directory (model.json itself excluded)
 * @param createdAt   ISO-8601 instant of the export
 */
public record ModelManifest(String name, String version, Architecture architecture, SpecialTokens specialTokens,
                            String tokenizerName, String tokenizerFingerprint, Map<String, Double> metrics, Map<String, String> files,
                            String createdAt) {

    /** Readers ignore fields they do not know, so the manifest can grow without breaking older workers. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * The decoder's shape; kvHeads is smaller than heads only with grouped-query attention.
     *
     * @param classLabels the labels of a classification head, whose logits follow the vocabulary's in the graph's
     *                    {@code logits} (columns {@code vocabSize} to {@code vocabSize + classLabels.size()}); empty
     *                    for a language model alone (and in manifests written before heads)
     */
    public record Architecture(String type, int vocabSize, int contextLength, int layers, int heads, int kvHeads,
                               int dModel, int dFF, List<String> classLabels) {
        public Architecture {
            classLabels = List.copyOf(Objects.requireNonNullElse(classLabels, List.of()));
        }

        /** Logits per position in the graph: the vocabulary's, then the head's. */
        public int logitsWidth() {
            return vocabSize + classLabels.size();
        }
    }

    /** Token ids with a fixed role; -1 where the tokenizer has no such token. */
    public record SpecialTokens(int bos, int eos, int pad) {}

    public ModelManifest {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(architecture, "architecture");
        metrics = Map.copyOf(Objects.requireNonNullElse(metrics, Map.of()));
        files = Map.copyOf(Objects.requireNonNullElse(files, Map.of()));
    }

    /** Reads {@code model.json} from a model directory. */
    public static ModelManifest read(Path directory) throws IOException {
        Path file = directory.resolve(ModelFiles.MANIFEST);
        try (InputStream in = Files.newInputStream(file)) {
            return JSON.readValue(in, ModelManifest.class);
        } catch (JacksonException e) {
            throw new IOException("malformed model manifest " + file + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Writes this manifest as {@code model.json} into a directory (keys sorted, so equal manifests give equal bytes). */
    public void write(Path directory) throws IOException {
        JSON.writeValue(directory.resolve(ModelFiles.MANIFEST).toFile(), this);
    }

    /** The SHA-256 of each named file of a directory, as {@link #files()} holds them. */
    public static Map<String, String> digests(Path directory, Collection<String> fileNames) throws IOException {
        Map<String, String> digests = new TreeMap<>();
        for (String name : fileNames) {
            digests.put(name, ModelFiles.sha256(directory.resolve(name)));
        }
        return digests;
    }

    /** Whether the manifest lists a file, e.g. {@link ModelFiles#TOKENIZER}, which a model may not have. */
    public boolean hasFile(String fileName) {
        return files.containsKey(fileName);
    }

    /**
     * Checks every file listed against the directory, so a worker never loads a half-copied or altered model.
     *
     * @throws IOException naming the first file that is missing or whose SHA-256 differs from the manifest's
     */
    public void verify(Path directory) throws IOException {
        for (Map.Entry<String, String> e : new TreeMap<>(files).entrySet()) {
            Path file = directory.resolve(e.getKey());
            if (!Files.isRegularFile(file)) {
                throw new IOException("model " + name + " " + version + ": file " + e.getKey()
                        + " listed in " + ModelFiles.MANIFEST + " is missing from " + directory);
            }
            String actual = ModelFiles.sha256(file);
            if (!actual.equalsIgnoreCase(e.getValue())) {
                throw new IOException("model " + name + " " + version + ": file " + e.getKey() + " in " + directory
                        + " has SHA-256 " + actual + " but " + ModelFiles.MANIFEST + " says " + e.getValue());
            }
        }
    }
}
