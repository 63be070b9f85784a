package io.llmstream.inference.model;


import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.llmstream.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * A decoder ready to serve: its ONNX Runtime session, the signature read from the graph, its tokenizer, context length,
 * end-of-sequence ids and classification head, if any. Made by {@link ModelLoader}. Immutable and safe to share; the
 * session may run on several threads, though the worker drives it from one.
 */
public final class DecoderModel implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DecoderModel.class);

    private final String name;
    private final String version;
    private final Path directory;
    private final Path graphFile;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final ExecutionProvider provider;
    private final ModelSignature signature;
    private final Tokenizer tokenizer;
    private final int contextLength;
    private final int[] eosIds;
    private final ClassificationHead classificationHead;
    private final String graphEdits;

    DecoderModel(String name, String version, Path directory, Path graphFile, OrtEnvironment env, OrtSession session,
                         ExecutionProvider provider, ModelSignature signature, Tokenizer tokenizer, int contextLength,
                         int[] eosIds, ClassificationHead classificationHead, String graphEdits) {
        this.name = name;
        this.version = version;
        this.directory = directory;
        this.graphFile = graphFile;
        this.env = env;
        this.session = session;
        this.provider = provider;
        this.signature = signature;
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
        this.eosIds = eosIds;
        this.classificationHead = classificationHead;
        this.graphEdits = graphEdits;
    }

    public String name() {
        return name;
    }

    public String version() {
        return version;
    }

    /** {@code name:version}, the form a request pins a model with. */
    public String id() {
        return name + ":" + version;
    }

    public Path directory() {
        return directory;
    }

    /** The ONNX file of the directory that is served (one of several in onnx-community layouts). */
    public Path graphFile() {
        return graphFile;
    }

    /** The provider the session actually runs on (CPU when CUDA was asked for and could not start). */
    public ExecutionProvider provider() {
        return provider;
    }

    public ModelSignature signature() {
        return signature;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Ids a request may use and generation may produce: the tokenizer's (the graph's logits may be padded wider, as
     * in GPT-2's 50257 tokens under 50304 logits).
     */
    public int vocabSize() {
        return tokenizer.vocabSize();
    }

    /** Positions the model has embeddings for: prompt plus generated tokens must fit. */
    public int contextLength() {
        return contextLength;
    }

    /** The head CLASSIFY answers with when the model was trained with one. */
    public Optional<ClassificationHead> classificationHead() {
        return Optional.ofNullable(classificationHead);
    }

    /** Ids that end a generation with finish reason EOS. */
    public int[] eosIds() {
        return eosIds.clone();
    }

    public boolean isEos(int id) {
        for (int e : eosIds) {
            if (e == id) {
                return true;
            }
        }
        return false;
    }

    /** What the session's graph changed from the file (a serving variant), or that it is the file as exported. */
    public String graphEdits() {
        return graphEdits;
    }

    public OrtEnvironment environment() {
        return env;
    }

    public OrtSession session() {
        return session;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            log.warn("closing the session of {}: {}", id(), e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "DecoderModel[" + id() + ", " + provider.label() + ", " + signature + ", context=" + contextLength
                + ", eos=" + Arrays.toString(eosIds) + "]";
    }
}
