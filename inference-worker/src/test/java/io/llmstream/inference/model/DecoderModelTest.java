package io.llmstream.inference.model;

import io.llmstream.inference.graph.ServingGraph;

import io.llmstream.inference.engine.Generator;
import io.llmstream.inference.engine.Sampling;
import io.llmstream.inference.TestModels;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.schemas.model.ModelManifest;
import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.AttributeProto;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProtos;
import io.llmstream.tokenizer.Tokenizers;
import io.llmstream.trainer.GptConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DecoderModelTest {

    private static final GptConfig CONFIG = new GptConfig(TestModels.VOCAB, 40, 2, 4, 32, 64, 0f, true);

    @TempDir
    static Path root;
    private static Path exported;

    @BeforeAll
    static void export() throws IOException {
        exported = TestModels.randomModel(root, "tiny", "3", CONFIG, 2);
    }

    @Test
    void readsTheSignatureFromTheGraphAndTheRestFromTheManifest() {
        try (DecoderModel model = ModelLoader.load(exported, RuntimeOptions.cpu())) {
            assertThat(model.id()).isEqualTo("tiny:3");
            assertThat(model.signature()).isEqualTo(new ModelSignature(2, 4, 8, TestModels.VOCAB, true,
                    ServingGraph.LOGITS_TO_KEEP, 1,
                    Precision.FLOAT32, Precision.FLOAT32, false, false));
            assertThat(model.contextLength()).isEqualTo(40);
            assertThat(model.eosIds()).containsExactly(TestModels.EOS);
            assertThat(model.provider()).isEqualTo(ExecutionProvider.CPU);
            assertThat(model.tokenizer().fingerprint())
                    .isEqualTo(Tokenizers.load(exported.resolve("tokenizer.json").toString()).fingerprint());
        }
    }

    @Test
    void cudaThatCannotStartFallsBackToTheCpu() {
        // The test classpath has the CPU build of ONNX Runtime, so the CUDA provider cannot start here.
        try (DecoderModel model = ModelLoader.load(exported, new RuntimeOptions(ExecutionProvider.CUDA, 0, 1))) {
            assertThat(model.provider()).isEqualTo(ExecutionProvider.CPU);
            assertThat(Generator.generate(model, new int[] {1, 2, 3}, Sampling.greedy(3)).outputIds()).isNotEmpty();
        }
    }

    @Test
    void refusesAlteredFiles() throws IOException {
        Path copy = copy("altered");
        byte[] onnx = Files.readAllBytes(copy.resolve("model.onnx"));
        onnx[onnx.length - 1] ^= 1;
        Files.write(copy.resolve("model.onnx"), onnx);
        assertThatThrownBy(() -> ModelLoader.load(copy, RuntimeOptions.cpu()))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("model.onnx").hasMessageContaining("SHA-256");
    }

    @Test
    void refusesATokenizerOtherThanTheOneTheModelWasTrainedWith() throws IOException {
        Path copy = copy("other-tokenizer");
        ModelManifest m = ModelManifest.read(copy);
        new ModelManifest(m.name(), m.version(), m.architecture(), m.specialTokens(), m.tokenizerName(),
                "0123456789abcdef", m.metrics(), m.files(), m.createdAt()).write(copy);
        assertThatThrownBy(() -> ModelLoader.load(copy, RuntimeOptions.cpu()))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("fingerprint");
    }

    @Test
    void servesAnOptimumStyleExport() throws IOException {
        Path dir = optimumStyle("optimum-gpt2", Files.readAllBytes(exported.resolve("model.onnx")));
        try (DecoderModel optimum = ModelLoader.load(dir, RuntimeOptions.cpu());
             DecoderModel ours = ModelLoader.load(exported, RuntimeOptions.cpu())) {
            assertThat(optimum.id()).isEqualTo("optimum-gpt2:" + ModelLoader.EXTERNAL_VERSION);
            assertThat(optimum.signature()).isEqualTo(ours.signature());
            assertThat(optimum.contextLength()).isEqualTo(40);
            int[] prompt = {5, 6, 7, 8};
            assertThat(Generator.generate(optimum, prompt, Sampling.greedy(8)))
                    .isEqualTo(Generator.generate(ours, prompt, Sampling.greedy(8)));
        }
    }

    @Test
    void servesTheFusedVariantAndFallsBackWhenItsShapesDoNotHold() throws IOException {
        try (DecoderModel model = ModelLoader.load(exported, RuntimeOptions.cpu())) {
            assertThat(model.graphEdits())
                    .isEqualTo("logits of the last positions, positions cut after the last attention, "
                            + "skip-LayerNorm fusion, attention fusion");
        }
        // Position embeddings of shape [1, seq, hidden] (rows of one length share their positions), broadcast over the
        // batch and written first in their sum: plain ONNX adds the token embeddings to them, SkipLayerNormalization
        // would repeat the token embeddings of row 0 over the others.
        ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(exported.resolve("model.onnx")));
        GraphProto.Builder graph = proto.getGraph().toBuilder();
        int gather = -1;
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (graph.getNode(i).getInputList().contains(OnnxNames.POSITION_IDS)) {
                gather = i;
            }
        }
        String positions = graph.getNode(gather).getOutput(0);
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            if (n.getOpType().equals("Add") && n.getInput(1).equals(positions)) {
                graph.setNode(i, n.toBuilder().setInput(0, positions).setInput(1, n.getInput(0)));
            }
        }
        AttributeProto axes = AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS)
                .addInts(0).build();
        graph.setNode(gather, graph.getNode(gather).toBuilder().setInput(1, "first_row_positions"));
        graph.addNode(gather, OnnxProtos.node("ReduceMax", "first_row", List.of(OnnxNames.POSITION_IDS),
                List.of("first_row_positions"), axes));
        Path dir = optimumStyle("broadcast-positions", proto.toBuilder().setGraph(graph).build().toByteArray());
        try (DecoderModel model = ModelLoader.load(dir, RuntimeOptions.cpu())) {
            assertThat(model.graphEdits()).isEqualTo("logits of the last positions, positions cut after the last attention");
            assertThat(Generator.generate(model, new int[] {1, 2, 3}, Sampling.greedy(3)).outputIds()).hasSize(3);
        }
    }

    @Test
    void refusesUnsupportedTokenizersAndIncompleteDirectories() throws IOException {
        Path dir = root.resolve("wordpiece");
        Files.createDirectories(dir);
        Files.copy(exported.resolve("model.onnx"), dir.resolve("model.onnx"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}");
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), Map.of("n_positions", 40));
        assertThatThrownBy(() -> ModelLoader.load(dir, RuntimeOptions.cpu()))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("unsupported tokenizer")
                .hasMessageContaining("WordPiece");

        Path empty = Files.createDirectories(root.resolve("empty"));
        assertThatThrownBy(() -> ModelLoader.load(empty, RuntimeOptions.cpu()))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("model.json").hasMessageContaining("config.json");
    }

    /** A directory as Optimum exports GPT-2: the graph, tokenizer.json and config.json, no manifest. */
    private static Path optimumStyle(String name, byte[] onnx) throws IOException {
        Path dir = root.resolve(name);
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.onnx"), onnx);
        Files.copy(exported.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), Map.of("model_type", "gpt2",
                "n_positions", 40, "n_head", 4, "n_embd", 32, "vocab_size", TestModels.VOCAB, "eos_token_id", 256));
        return dir;
    }

    private static Path copy(String name) throws IOException {
        Path copy = root.resolve(name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(exported)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        return copy;
    }
}
