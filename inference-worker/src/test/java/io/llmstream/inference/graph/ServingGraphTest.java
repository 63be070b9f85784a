package io.llmstream.inference.graph;

import io.llmstream.inference.TestModels;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.trainer.GptConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ServingGraphTest {

    private static final GptConfig CONFIG = new GptConfig(TestModels.VOCAB, 32, 2, 4, 32, 64, 0f, true);
    private static final long[] IDS = {5, 17, 99, 3, 250, 41, 7};

    @TempDir
    static Path root;
    private static byte[] original;

    @BeforeAll
    static void export() throws IOException {
        original = Files.readAllBytes(TestModels.randomModel(root, "tiny", "1", CONFIG, 3).resolve("model.onnx"));
    }

    @Test
    void keptPositionsAreTheLastColumnsOfTheFullLogits() throws OrtException, IOException {
        assertKeepsTheLastPositions(ServingGraph.keepLastPositions(ModelProto.parseFrom(original)).orElseThrow());
    }

    @Test
    void positionsCutAfterTheLastAttentionGiveTheSameLogits() throws OrtException, IOException {
        ModelProto kept = ServingGraph.keepLastPositions(ModelProto.parseFrom(original)).orElseThrow();
        ModelProto cut = EarlyPositionCut.apply(kept).orElseThrow();
        // one cut at the projection became two: the last attention's output and the residual stream beside it
        assertThat(cut.getGraph().getNodeList()).extracting(NodeProto::getName).doesNotContain(ServingGraph.KEEP_SLICE);
        assertThat(opCount(cut, "Slice")).isEqualTo(opCount(kept, "Slice") + 1);
        assertKeepsTheLastPositions(cut);
        assertThat(EarlyPositionCut.apply(cut)).as("applied once").isEmpty();
        assertThat(EarlyPositionCut.apply(ModelProto.parseFrom(original))).as("all positions kept").isEmpty();
        ModelProto.Builder foreign = kept.toBuilder().setProducerName("pytorch");
        for (int i = 0; i < foreign.getGraph().getInputCount(); i++) {
            if (foreign.getGraph().getInput(i).getName().equals(OnnxNames.ATTENTION_MASK)) {
                foreign.getGraphBuilder().getInputBuilder(i).setName("mask");
            }
        }
        assertThat(EarlyPositionCut.apply(foreign.build()))
                .as("only our exporter's and transformers' decoders have known shapes").isEmpty();
    }

    /** {@code variant}'s logits are the file's of the last {@link ServingGraph#LOGITS_TO_KEEP} positions (0: all). */
    private static void assertKeepsTheLastPositions(ModelProto variant) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession full = env.createSession(original); OrtSession serving = env.createSession(variant.toByteArray())) {
            assertThat(serving.getInputNames()).contains(ServingGraph.LOGITS_TO_KEEP);
            float[] expected = logits(env, full, -1);
            int v = CONFIG.vocabSize();
            assertThat(logits(env, serving, 0)).containsExactly(expected); // 0 keeps every position
            float[] last = logits(env, serving, 1);
            assertThat(last).hasSize(v);
            for (int i = 0; i < v; i++) {
                assertThat(last[i]).isCloseTo(expected[(IDS.length - 1) * v + i], within(1e-5f));
            }
            float[] lastThree = logits(env, serving, 3);
            assertThat(lastThree).hasSize(3 * v);
            for (int i = 0; i < 3 * v; i++) {
                assertThat(lastThree[i]).isCloseTo(expected[(IDS.length - 3) * v + i], within(1e-5f));
            }
            assertThat(logits(env, serving, 100)).containsExactly(expected); // more than there are: all
        }
    }

    @Test
    void skipLayerNormFusionKeepsTheLogitsAndTheResidualStream() throws OrtException, IOException {
        ModelProto proto = ModelProto.parseFrom(original);
        ModelProto fused = ServingGraph.fuseSkipLayerNorms(proto).orElseThrow();
        int layers = CONFIG.layers();
        assertThat(opCount(fused, "LayerNormalization")).isZero();
        assertThat(opCount(fused, "SkipLayerNormalization")).isEqualTo(2 * layers + 1);
        // Gone: the sum before each LayerNorm (embeddings, then two residuals per layer) and the bias of each
        // projection back into the residual stream (attention and MLP), folded into the fused nodes.
        assertThat(opCount(fused, "Add")).isEqualTo(opCount(proto, "Add") - (2 * layers + 1) - 2 * layers);
        assertThat(ServingGraph.fuseSkipLayerNorms(fused)).as("applied once").isEmpty();
        assertSameLogitsAsTheFile(fused);
    }

    @Test
    void attentionFusionKeepsTheLogitsAndLeavesOneNodePerLayer() throws OrtException, IOException {
        ModelProto proto = ModelProto.parseFrom(original);
        ModelProto fused = AttentionFusion.apply(proto).orElseThrow();
        assertThat(opCount(fused, "MultiHeadAttention")).isEqualTo(CONFIG.layers());
        for (String gone : List.of("Softmax", "Where", "Concat", "LessOrEqual", "Range")) {
            assertThat(opCount(fused, gone)).as(gone).isZero();
        }
        // q, k and v split into heads, the keys turned for the scores, the heads merged: five per layer
        assertThat(opCount(fused, "Transpose")).isEqualTo(opCount(proto, "Transpose") - 5L * CONFIG.layers());
        assertThat(fused.getGraph().getNodeCount()).isLessThan(proto.getGraph().getNodeCount() - 16 * CONFIG.layers());
        assertSameLogitsAsTheFile(fused);
        ModelProto foreign = proto.toBuilder().setProducerName("pytorch").build();
        assertThat(AttentionFusion.apply(foreign)).as("only our exporter's mask is known").isEmpty();
    }

    @Test
    void variantsComeBestFirst() {
        assertThat(ServingGraph.variants(original, true)).extracting(ServingGraph.Variant::edits)
                .containsExactly(
                        "logits of the last positions, positions cut after the last attention, skip-LayerNorm fusion, "
                                + "attention fusion",
                        "logits of the last positions, positions cut after the last attention, skip-LayerNorm fusion",
                        "logits of the last positions, positions cut after the last attention",
                        "logits of the last positions");
    }

    @Test
    void everyInitializerOfAVariantIsRead() {
        for (ServingGraph.Variant v : ServingGraph.variants(original, true)) {
            var graph = v.model().getGraph();
            var read = graph.getNodeList().stream().flatMap(n -> n.getInputList().stream()).toList();
            assertThat(graph.getInitializerList()).as(v.edits())
                    .allSatisfy(t -> assertThat(read).as(t.getName()).contains(t.getName()));
        }
    }

    /** Every position's logits of {@link #IDS} from {@code edited} are the exported graph's, within 1e-4. */
    private static void assertSameLogitsAsTheFile(ModelProto edited) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession plain = env.createSession(original); OrtSession serving = env.createSession(edited.toByteArray())) {
            float[] expected = logits(env, plain, -1);
            float[] actual = logits(env, serving, -1);
            assertThat(actual).hasSameSizeAs(expected);
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).isCloseTo(expected[i], within(1e-4f));
            }
        }
    }

    private static long opCount(ModelProto model, String opType) {
        return model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(opType)).count();
    }

    @Test
    void graphsOfAnotherShapeAreServedAsTheyAre() throws IOException {
        ModelProto proto = ModelProto.parseFrom(original);
        var graph = proto.getGraph().toBuilder();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            if (n.getOutputList().contains(OnnxNames.LOGITS)) {
                graph.setNode(i, n.toBuilder().setOpType("Gemm")); // any projection but a plain MatMul
            }
        }
        ModelProto other = proto.toBuilder().setGraph(graph).build();
        assertThat(ServingGraph.keepLastPositions(other)).isEmpty();
        assertThat(ServingGraph.variants(new byte[] {1, 2, 3}, true)).isEmpty();
        ModelProto variant = ServingGraph.keepLastPositions(proto).orElseThrow();
        assertThat(ServingGraph.keepLastPositions(variant)).as("applied once").isEmpty();
    }

    /** Logits of one row of {@link #IDS} with an empty cache; {@code keep < 0} feeds no keep input. */
    private static float[] logits(OrtEnvironment env, OrtSession session, long keep) throws OrtException {
        int n = IDS.length;
        Map<String, OnnxTensor> in = new HashMap<>();
        long[] positions = new long[n];
        long[] mask = new long[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
            mask[i] = 1;
        }
        try {
            in.put(OnnxNames.INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(IDS), new long[] {1, n}));
            in.put(OnnxNames.ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {1, n}));
            in.put(OnnxNames.POSITION_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(positions), new long[] {1, n}));
            long[] pastShape = {1, CONFIG.heads(), 0, CONFIG.dModel() / CONFIG.heads()};
            FloatBuffer empty = ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()).asFloatBuffer();
            for (int l = 0; l < CONFIG.layers(); l++) {
                in.put(OnnxNames.pastKey(l), OnnxTensor.createTensor(env, empty, pastShape));
                in.put(OnnxNames.pastValue(l), OnnxTensor.createTensor(env, empty, pastShape));
            }
            if (keep >= 0) {
                in.put(ServingGraph.LOGITS_TO_KEEP, OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {keep}),
                        new long[] {1}));
            }
            try (OrtSession.Result r = session.run(in)) {
                FloatBuffer out = ((OnnxTensor) r.get(OnnxNames.LOGITS).orElseThrow()).getFloatBuffer();
                float[] values = new float[out.remaining()];
                out.get(values);
                return values;
            }
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }
}
