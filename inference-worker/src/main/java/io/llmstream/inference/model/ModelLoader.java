package io.llmstream.inference.model;

import io.llmstream.inference.graph.ServingGraph;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.llmstream.schemas.model.HuggingFaceConfig;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Loads a model directory into a {@link DecoderModel}, either
 * <ul>
 *   <li>ours ({@code model.json} manifest, whose SHA-256 of every file is checked before anything is read, plus
 *       {@code model.onnx} and {@code tokenizer.json}, or the manifest's built-in tokenizer name), or</li>
 *   <li>a HuggingFace export ({@code config.json}, {@code tokenizer.json} and one or more graphs, see
 *       {@link GraphFiles}); its name is the directory's name and its version {@value #EXTERNAL_VERSION}.</li>
 * </ul>
 * Each session runs the best serving variant of the graph ({@link ServingGraph}) that passes {@link BatchProbe}, or
 * the graph as exported.
 */
public final class ModelLoader {

    /** The version given to a directory without a manifest. */
    public static final String EXTERNAL_VERSION = "external";

    private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);
    /** One warning per process, not one per model version, when CUDA was asked for and could not start. */
    private static final AtomicBoolean CUDA_WARNED = new AtomicBoolean();

    private ModelLoader() {}

    /**
     * Loads a model directory.
     *
     * @throws ModelLoadException naming the directory and what is wrong: a missing or altered file, a graph without a KV
     *                            cache, a float16 model, a tokenizer io.llmstream.tokenizer does not support
     */
    public static DecoderModel load(Path directory, RuntimeOptions options) {
        return load(directory, options, null);
    }

    /** A model's name and version as a models-topic record states them. */
    public record Identity(String name, String version) {}

    /**
     * Loads a model directory that {@code identity} names (the models topic's record): a directory of ours must hold
     * exactly that name and version; a HuggingFace export, which names nothing itself, is served under it.
     */
    public static DecoderModel load(Path directory, RuntimeOptions options, Identity identity) {
        Objects.requireNonNull(options, "options");
        Path dir = directory.toAbsolutePath().normalize();
        try {
            return Files.isRegularFile(dir.resolve(ModelFiles.MANIFEST)) ? loadOurs(dir, options, identity)
                    : loadOptimum(dir, options, identity);
        } catch (IOException | UncheckedIOException e) {
            throw new ModelLoadException("cannot load the model in " + dir + ": " + e.getMessage(), e);
        } catch (ModelLoadException e) {
            throw new ModelLoadException("cannot load the model in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static DecoderModel loadOurs(Path dir, RuntimeOptions options, Identity identity) throws IOException {
        ModelManifest manifest = ModelManifest.read(dir);
        if (identity != null && !(manifest.name().equals(identity.name()) && manifest.version().equals(identity.version()))) {
            throw new ModelLoadException("it holds " + manifest.name() + ":" + manifest.version() + ", not "
                    + identity.name() + ":" + identity.version());
        }
        manifest.verify(dir);
        Tokenizer tokenizer;
        if (Files.isRegularFile(dir.resolve(ModelFiles.TOKENIZER))) {
            tokenizer = tokenizer(dir.resolve(ModelFiles.TOKENIZER).toString());
        } else if (manifest.tokenizerName() != null && !manifest.tokenizerName().isBlank()) {
            tokenizer = tokenizer(manifest.tokenizerName());
        } else {
            throw new ModelLoadException("no " + ModelFiles.TOKENIZER + " and no tokenizer name in " + ModelFiles.MANIFEST);
        }
        if (manifest.tokenizerFingerprint() != null && !manifest.tokenizerFingerprint().equals(tokenizer.fingerprint())) {
            throw new ModelLoadException("the tokenizer's fingerprint " + tokenizer.fingerprint()
                    + " differs from the one the model was trained with, " + manifest.tokenizerFingerprint());
        }
        ModelManifest.Architecture a = manifest.architecture();
        int headDim = a.heads() > 0 ? a.dModel() / a.heads() : 0;
        int eos = manifest.specialTokens() == null ? -1 : manifest.specialTokens().eos();
        ClassificationHead head = a.classLabels().isEmpty() ? null
                : new ClassificationHead(a.classLabels(), a.vocabSize());
        return open(manifest.name(), manifest.version(), dir, options,
                new ModelSignature.Hints(a.kvHeads(), headDim, a.logitsWidth()), tokenizer, a.contextLength(),
                eos >= 0 ? new int[] {eos} : new int[0], head);
    }

    private static DecoderModel loadOptimum(Path dir, RuntimeOptions options, Identity identity) throws IOException {
        Path configFile = dir.resolve(ModelFiles.HF_CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new ModelLoadException("neither " + ModelFiles.MANIFEST + " (llmstream) nor " + ModelFiles.HF_CONFIG
                    + " (HuggingFace Optimum) found");
        }
        if (!Files.isRegularFile(dir.resolve(ModelFiles.TOKENIZER))) {
            throw new ModelLoadException("an Optimum export needs " + ModelFiles.TOKENIZER);
        }
        HuggingFaceConfig config = HuggingFaceConfig.read(dir);
        Tokenizer tokenizer = tokenizer(dir.resolve(ModelFiles.TOKENIZER).toString());
        if (config.contextLength() <= 0) {
            throw new ModelLoadException(ModelFiles.HF_CONFIG + " states no context length (max_position_embeddings)");
        }
        return open(identity == null ? dir.getFileName().toString() : identity.name(),
                identity == null ? EXTERNAL_VERSION : identity.version(), dir, options,
                new ModelSignature.Hints(config.kvHeads(), config.headDim(), config.vocabSize()),
                tokenizer, config.contextLength(), config.eosIds(), null);
    }

    private static DecoderModel open(String name, String version, Path dir, RuntimeOptions options,
                                     ModelSignature.Hints hints, Tokenizer tokenizer, int contextLength, int[] eosIds,
                                     ClassificationHead head) throws IOException {
        GraphFiles.Choice graph = GraphFiles.choose(dir, options.variant(), options.provider());
        Path onnx = graph.file();
        log.info("{}: serving {} ({})", dir, dir.relativize(onnx), graph.reason());
        boolean rowsCoupled = GraphFiles.quantizesActivationsPerTensor(onnx);
        if (rowsCoupled) {
            log.info("{}: dynamically quantized activations (one scale per tensor): requests run one at a time, so each "
                    + "result is the one it gets alone", onnx);
        }
        if (contextLength < 2) {
            throw new ModelLoadException("context length " + contextLength + " leaves no room to generate");
        }
        if (eosIds.length == 0) {
            // A model that names no end-of-sequence token still stops at the tokenizer's document separator.
            eosIds = tokenizer.specialTokenId("<|endoftext|>").stream().toArray();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<GraphSource> sources = graphSources(onnx, options.provider() == ExecutionProvider.CPU);
        for (GraphSource variant : sources.subList(0, sources.size() - 1)) {
            DecoderModel model = null;
            try {
                model = openGraph(name, version, dir, env, variant, options, hints, rowsCoupled, tokenizer,
                        contextLength, eosIds, head);
                BatchProbe.check(model);
                return loaded(model);
            } catch (OrtException | RuntimeException e) {
                if (model != null) {
                    model.close();
                }
                log.info("{}: the serving variant with {} does not run on this graph ({}); trying the next", onnx,
                        variant.edits(), e.getMessage());
            }
        }
        return loaded(openGraph(name, version, dir, env, sources.get(sources.size() - 1), options, hints, rowsCoupled,
                tokenizer, contextLength, eosIds, head));
    }

    private static DecoderModel loaded(DecoderModel model) {
        ModelSignature s = model.signature();
        log.info("loaded model {} from {} on {} ({}): {} layers, {} KV heads x {}, vocabulary {}, context {}",
                model.id(), model.directory(), model.provider().label(), model.graphEdits(), s.layers(), s.kvHeads(),
                s.headDim(), s.vocabSize(), model.contextLength());
        return model;
    }

    private static DecoderModel openGraph(String name, String version, Path dir, OrtEnvironment env, GraphSource graph,
                                          RuntimeOptions options, ModelSignature.Hints hints, boolean rowsCoupled,
                                          Tokenizer tokenizer, int contextLength, int[] eosIds,
                                          ClassificationHead head) {
        Session opened = createSession(env, graph, options);
        try {
            ModelSignature signature = ModelSignature.read(opened.session(), hints, rowsCoupled);
            if (tokenizer.vocabSize() > signature.vocabSize()) {
                throw new ModelLoadException("the tokenizer has " + tokenizer.vocabSize() + " ids but the model only "
                        + signature.vocabSize() + " logits");
            }
            for (int id : eosIds) {
                if (id < 0 || id >= signature.vocabSize()) {
                    throw new ModelLoadException("end-of-sequence id " + id + " is outside the vocabulary");
                }
            }
            return new DecoderModel(name, version, dir, graph.file(), env, opened.session(), opened.provider(), signature,
                    tokenizer, contextLength, eosIds.clone(), head, graph.edits());
        } catch (OrtException | RuntimeException e) {
            closeQuietly(opened.session());
            if (e instanceof ModelLoadException m) {
                throw m;
            }
            throw new ModelLoadException("ONNX Runtime cannot read the graph: " + e.getMessage(), e);
        }
    }

    private record Session(OrtSession session, ExecutionProvider provider) {}

    /**
     * What a session is made from: a serving variant of the file ({@link ServingGraph}), or the file itself.
     *
     * @param edits what the variant changed, for the log
     */
    private record GraphSource(String edits, Path file, SessionOpener opener) {}

    private interface SessionOpener {
        OrtSession open(OrtEnvironment env, OrtSession.SessionOptions options) throws OrtException;
    }

    /** ONNX Runtime's session option: where external data files are found for a model given as bytes. */
    private static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

    /** Graphs above this size are served from the file as they are, not parsed into a variant on the heap. */
    private static final long MAX_VARIANT_BYTES = 1L << 30;

    /** The serving variants of the file, best first, then the file itself. */
    private static List<GraphSource> graphSources(Path onnx, boolean onCpu) {
        List<GraphSource> sources = new ArrayList<>();
        try {
            if (Files.size(onnx) <= MAX_VARIANT_BYTES) {
                String folder = onnx.toAbsolutePath().getParent().toString();
                for (ServingGraph.Variant variant : ServingGraph.variants(Files.readAllBytes(onnx), onCpu)) {
                    sources.add(new GraphSource(variant.edits(), onnx, (env, options) -> {
                        // a session made from bytes has no path to resolve external data files against
                        options.addConfigEntry(EXTERNAL_DATA_FOLDER, folder);
                        return env.createSession(variant.model().toByteArray(), options);
                    }));
                }
            }
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + onnx + ": " + e.getMessage(), e);
        }
        if (sources.isEmpty()) {
            log.info("{}: served as exported, logits for every position (the file is over 1 GiB, or no serving edit "
                    + "applies to the graph)", onnx);
        }
        sources.add(new GraphSource("the graph as exported", onnx,
                (env, options) -> env.createSession(onnx.toString(), options)));
        return sources;
    }

    /** A session on the provider asked for, or on the CPU (after one clear warning) when CUDA cannot start. */
    private static Session createSession(OrtEnvironment env, GraphSource graph, RuntimeOptions options) {
        if (options.provider() == ExecutionProvider.CUDA) {
            try (OrtSession.SessionOptions cuda = sessionOptions(options)) {
                cuda.addCUDA(options.deviceId());
                return new Session(graph.opener().open(env, cuda), ExecutionProvider.CUDA);
            } catch (OrtException | RuntimeException | LinkageError e) {
                if (CUDA_WARNED.compareAndSet(false, true)) {
                    log.warn("CUDA execution provider (device {}) cannot start, running on the CPU instead: {}. "
                            + "It needs the onnxruntime_gpu build (mvn -Pcuda), an NVIDIA driver, CUDA 12.x and cuDNN 9.x.",
                            options.deviceId(), e.getMessage());
                }
            }
        }
        try (OrtSession.SessionOptions cpu = sessionOptions(options)) {
            return new Session(graph.opener().open(env, cpu), ExecutionProvider.CPU);
        } catch (OrtException e) {
            throw new ModelLoadException("ONNX Runtime cannot load the graph (" + graph.edits() + "): " + e.getMessage(), e);
        }
    }

    private static OrtSession.SessionOptions sessionOptions(RuntimeOptions options) {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            so.setIntraOpNumThreads(options.intraOpThreads());
            so.setInterOpNumThreads(1);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            return so;
        } catch (OrtException e) {
            so.close();
            throw new ModelLoadException("invalid session options " + options + ": " + e.getMessage(), e);
        }
    }

    private static Tokenizer tokenizer(String nameOrPath) {
        try {
            return Tokenizers.load(nameOrPath);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException("unsupported tokenizer " + nameOrPath + ": " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(OrtSession session) {
        try {
            session.close();
        } catch (OrtException | RuntimeException e) {
            log.debug("closing a session that failed to load", e);
        }
    }
}
