package io.llmstream.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.NamedParameter;
import io.llmstream.trainer.Decoder;
import io.llmstream.trainer.Gpt;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.InMemoryWindowSource;
import io.llmstream.trainer.ModelArtifactWriter;
import io.llmstream.trainer.Trainer;
import io.llmstream.trainer.TrainingConfig;
import io.llmstream.trainer.TrainingListener;
import io.llmstream.trainer.Window;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Real model directories for tests, written by our trainer: a byte-level tokenizer (256 byte tokens plus
 * {@code <|endoftext|>} = 256, no merges) and tiny GPT decoders over it, random or trained.
 */
public final class TestModels {

    public static final int VOCAB = 257;
    public static final int EOS = 256;

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestModels() {}

    /** Writes a byte-level tokenizer.json (GPT-2's byte-to-character alphabet) into {@code dir}. */
    public static Path byteTokenizer(Path dir) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", EOS).put("content", "<|endoftext|>").put("special", true).put("normalized", false);
        // Without merges the GPT-2 split changes nothing; left out, each text is one piece of byte tokens.
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        int[] alphabet = byteAlphabet();
        for (int b = 0; b < 256; b++) {
            vocab.put(new String(Character.toChars(alphabet[b])), b);
        }
        vocab.put("<|endoftext|>", EOS);
        model.putArray("merges");
        Files.createDirectories(dir);
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), root);
        return file;
    }

    /** GPT-2's printable stand-in for every byte: printable Latin-1 bytes stand for themselves, the rest from 256 on. */
    private static int[] byteAlphabet() {
        int[] map = new int[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? b : next++;
        }
        return map;
    }

    /**
     * A decoder with random weights of order one (so logits are far apart and greedy choices are not ties), exported
     * into {@code root/name/version}.
     */
    public static Path randomModel(Path root, String name, String version, GptConfig config, long seed) throws IOException {
        Path tokenizer = byteTokenizer(root.resolve("tokenizer-" + name + "-" + version));
        try (NDManager manager = NDManager.newBaseManager()) {
            Gpt model = Gpt.create(config, manager, seed);
            for (NamedParameter p : model.namedParameters()) {
                NDArray w = p.parameter().getArray();
                w.addi(manager.randomNormal(0f, 0.3f, w.getShape(), w.getDataType()));
            }
            return export(model, root, name, version, tokenizer);
        }
    }

    /**
     * A decoder trained on windows of {@code text} as long as its context (so every position embedding is trained),
     * exported into {@code root/name/version}.
     */
    public static Path trainedModel(Path root, String name, String version, String text, int steps) throws IOException {
        Path tokenizerFile = byteTokenizer(root.resolve("tokenizer-" + name + "-" + version));
        Tokenizer tokenizer = Tokenizers.load(tokenizerFile.toString());
        int[] stream = tokenizer.encode(text);
        int t = 48;
        List<Window> windows = new ArrayList<>();
        for (int start = 0; start + t + 1 <= stream.length; start += 3) {
            int[] w = new int[t + 1];
            System.arraycopy(stream, start, w, 0, t + 1);
            windows.add(new Window(w, Window.Split.TRAIN, "text@" + start));
        }
        java.util.Collections.shuffle(windows, new Random(5));
        GptConfig config = new GptConfig(VOCAB, t, 2, 4, 64, 128, 0f, true);
        TrainingConfig training = TrainingConfig.builder().sequenceLength(t).batchSize(8).maxSteps(steps)
                .learningRate(6e-3).warmupSteps(20).evalInterval(0).checkpointInterval(0).seed(3).build();
        try (Trainer trainer = new Trainer(config, training, new InMemoryWindowSource(windows, true), null,
                TrainingListener.NONE)) {
            trainer.train();
            return export(trainer.model(), root, name, version, tokenizerFile);
        }
    }

    /** A model trained with a classification head, and that head's logits (by DJL) for the probe prompts. */
    public record TrainedClassifier(Path dir, float[][] probeLogits) {}

    /**
     * A decoder trained with a classification head over {@code labels} on labelled prompts (each the window's first
     * ids, the head reading its last), exported into {@code root/name/version}; the trained head's logits at the last
     * position of each probe prompt, computed by the trainer's own forward pass, come back with it.
     */
    public static TrainedClassifier trainedClassifier(Path root, String name, String version, Map<String, String> examples,
                                                      List<String> labels, int steps, List<int[]> probes)
            throws IOException {
        Path tokenizerFile = byteTokenizer(root.resolve("tokenizer-" + name + "-" + version));
        Tokenizer tokenizer = Tokenizers.load(tokenizerFile.toString());
        int t = 24;
        List<Window> windows = new ArrayList<>();
        examples.forEach((text, label) -> {
            int[] prompt = tokenizer.encode(text);
            int[] ids = new int[t + 1];
            java.util.Arrays.fill(ids, EOS);
            System.arraycopy(prompt, 0, ids, 0, prompt.length);
            boolean[] mask = new boolean[t];
            mask[prompt.length - 1] = true;
            windows.add(new Window(ids, mask, label, Window.Split.TRAIN, text));
        });
        java.util.Collections.shuffle(windows, new Random(5));
        GptConfig config = new GptConfig(VOCAB, t, 2, 4, 64, 128, 0f, true).withClassLabels(labels);
        TrainingConfig training = TrainingConfig.builder().sequenceLength(t).batchSize(32).maxSteps(steps)
                .learningRate(3e-3).warmupSteps(20).evalInterval(0).checkpointInterval(0).seed(3).build();
        try (Trainer trainer = new Trainer(config, training, new InMemoryWindowSource(windows, true), null,
                TrainingListener.NONE); NDManager manager = NDManager.newBaseManager()) {
            trainer.train();
            Decoder model = trainer.model();
            float[][] logits = new float[probes.size()][];
            for (int i = 0; i < probes.size(); i++) {
                int[] probe = probes.get(i);
                float[] all = model.logits(manager.create(probe).reshape(1, probe.length)).toFloatArray();
                int width = model.outputWidth();
                logits[i] = java.util.Arrays.copyOfRange(all, (probe.length - 1) * width + VOCAB, probe.length * width);
            }
            return new TrainedClassifier(export(model, root, name, version, tokenizerFile), logits);
        }
    }

    private static Path export(Decoder model, Path root, String name, String version, Path tokenizerFile) throws IOException {
        Tokenizer tokenizer = Tokenizers.load(tokenizerFile.toString());
        Path dir = root.resolve(name).resolve(version);
        ModelArtifactWriter.write(model, new ModelArtifactWriter.ModelInfo(name, version,
                new ModelManifest.SpecialTokens(-1, EOS, EOS), null, tokenizer.fingerprint(), Map.of()),
                tokenizerFile, dir);
        return dir;
    }

    /** Random ids that are not EOS. */
    public static int[] randomPrompt(int length, long seed) {
        return new Random(seed).ints(length, 0, EOS).toArray();
    }
}
