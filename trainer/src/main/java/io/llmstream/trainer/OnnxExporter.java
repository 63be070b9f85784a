package io.llmstream.trainer;

import ai.djl.nn.Parameter;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.OperatorSetIdProto;

import io.llmstream.schemas.model.OnnxNames;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import static io.llmstream.trainer.OnnxGraphBuilder.BOOL;
import static io.llmstream.trainer.OnnxGraphBuilder.FLOAT;
import static io.llmstream.trainer.OnnxGraphBuilder.INT64;
import static io.llmstream.trainer.OnnxGraphBuilder.attr;
import static io.llmstream.trainer.OnnxGraphBuilder.attrInts;
import static io.llmstream.schemas.model.OnnxNames.ATTENTION_MASK;
import static io.llmstream.schemas.model.OnnxNames.INPUT_IDS;
import static io.llmstream.schemas.model.OnnxNames.LOGITS;
import static io.llmstream.schemas.model.OnnxNames.POSITION_IDS;
import static io.llmstream.schemas.model.OnnxNames.pastKey;
import static io.llmstream.schemas.model.OnnxNames.pastValue;
import static io.llmstream.schemas.model.OnnxNames.presentKey;
import static io.llmstream.schemas.model.OnnxNames.presentValue;

/**
 * Exports a {@link Gpt} as an ONNX decoder with a KV cache, opset 17, standard operators only, under HuggingFace
 * Optimum's input and output names ({@link OnnxNames}; no grouped-query attention, so kvHeads = heads).
 * Positions come from {@code position_ids} (so left padding with {@code cumsum(mask) - 1} works); a query attends to
 * the keys at or before its own cache slot whose {@code attention_mask} is 1. The first step passes a zero-length past.
 *
 * <p>The graph repeats {@link Gpt}'s forward pass node by node ({@code OnnxParityTest} holds them equal), and the
 * worker's {@code AttentionFusion} matches its attention nodes exactly ({@code ServingGraphTest}). It stays plain
 * ONNX on purpose, rather than writing ONNX Runtime's fused {@code MultiHeadAttention} itself: the artifact then loads
 * in any ONNX runtime, and the fusion is a serving choice the worker makes and checks at load time.
 */
public final class OnnxExporter {

    public static final int OPSET = 17;
    /** IR version 8 is the one that goes with opset 17. */
    public static final long IR_VERSION = 8;

    private static final String BATCH = "batch_size";
    private static final String SEQ = "sequence_length";
    private static final String PAST = "past_sequence_length";
    private static final String TOTAL = "total_sequence_length";

    private final Gpt model;
    private final GptConfig config;
    private final OnnxGraphBuilder g = new OnnxGraphBuilder("llmstream-gpt");
    private final Set<String> written = new HashSet<>();

    private OnnxExporter(Gpt model) {
        this.model = model;
        this.config = model.config();
    }

    /** The serialized ModelProto. Reads the current weights; do not train the model while this runs. */
    public static byte[] export(Gpt model) {
        return new OnnxExporter(model).build().toByteArray();
    }

    public static void write(Gpt model, Path file) throws IOException {
        Files.write(file, export(model));
    }

    private ModelProto build() {
        declareInputsAndOutputs();
        String x = g.node("Add", List.of(
                g.node("Gather", List.of(weight("wte"), INPUT_IDS), attr("axis", 0)),
                g.node("Gather", List.of(weight("wpe"), POSITION_IDS), attr("axis", 0))));
        String keyAllowed = keyAllowed();
        for (int i = 0; i < config.layers(); i++) {
            String p = "h." + i + ".";
            x = g.node("Add", List.of(x, attention(i, layerNorm(x, p + "ln_1"), keyAllowed)));
            x = g.node("Add", List.of(x, mlp(p + "mlp", layerNorm(x, p + "ln_2"))));
        }
        x = layerNorm(x, "ln_f");
        // Tied head: a Transpose of wte that ONNX Runtime folds at load, instead of a second copy in the file.
        String head = config.tieEmbeddings()
                ? g.node("Transpose", List.of(weight("wte")), attrInts("perm", 1, 0))
                : linearWeight("lm_head.weight");
        g.nodeTo("MatMul", LOGITS, List.of(x, head));

        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName(OnnxNames.PRODUCER)
                .setProducerVersion(Objects.requireNonNullElse(OnnxExporter.class.getPackage().getImplementationVersion(), "dev"))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.build())
                .build();
    }

    private void declareInputsAndOutputs() {
        int heads = config.heads();
        int headDim = config.headDim();
        g.input(INPUT_IDS, INT64, BATCH, SEQ);
        g.input(ATTENTION_MASK, INT64, BATCH, TOTAL);
        g.input(POSITION_IDS, INT64, BATCH, SEQ);
        g.output(LOGITS, FLOAT, BATCH, SEQ, (long) config.vocabSize());
        for (int i = 0; i < config.layers(); i++) {
            g.input(pastKey(i), FLOAT, BATCH, (long) heads, PAST, (long) headDim);
            g.input(pastValue(i), FLOAT, BATCH, (long) heads, PAST, (long) headDim);
            g.output(presentKey(i), FLOAT, BATCH, (long) heads, TOTAL, (long) headDim);
            g.output(presentValue(i), FLOAT, BATCH, (long) heads, TOTAL, (long) headDim);
        }
    }

    /**
     * (batch, 1, seq, past + seq) bool: key j is visible to new token i when j <= past + i (causal, counted in cache
     * slots) and attention_mask[b, j] == 1 (not padding). Built once and shared by every layer.
     */
    private String keyAllowed() {
        String seq = g.node("Gather", List.of(g.node("Shape", List.of(INPUT_IDS)), g.scalar(1L)), attr("axis", 0));
        String total = g.node("Gather", List.of(g.node("Shape", List.of(ATTENTION_MASK)), g.scalar(1L)), attr("axis", 0));
        String past = g.node("Sub", List.of(total, seq));
        String querySlot = g.node("Add", List.of(g.node("Range", List.of(g.scalar(0L), seq, g.scalar(1L))), past));
        String keySlot = g.node("Range", List.of(g.scalar(0L), total, g.scalar(1L)));
        String causal = g.node("LessOrEqual", List.of(
                g.node("Unsqueeze", List.of(keySlot, g.ints(0))),
                g.node("Unsqueeze", List.of(querySlot, g.ints(1)))));
        String notPadding = g.node("Unsqueeze", List.of(
                g.node("Cast", List.of(ATTENTION_MASK), attr("to", BOOL)), g.ints(1, 2)));
        return g.node("And", List.of(causal, notPadding));
    }

    private String attention(int layer, String x, String keyAllowed) {
        String p = "h." + layer + ".attn.";
        List<String> qkv = g.node("Split", 3, List.of(linear(x, p + "c_attn")), attr("axis", 2));
        String q = splitHeads(qkv.get(0));
        String k = g.nodeTo("Concat", presentKey(layer),
                List.of(pastKey(layer), splitHeads(qkv.get(1))), attr("axis", 2));
        String v = g.nodeTo("Concat", presentValue(layer),
                List.of(pastValue(layer), splitHeads(qkv.get(2))), attr("axis", 2));
        String scores = g.node("Mul", List.of(
                g.node("MatMul", List.of(q, g.node("Transpose", List.of(k), attrInts("perm", 0, 1, 3, 2)))),
                g.scalar((float) (1.0 / Math.sqrt(config.headDim())))));
        scores = g.node("Where", List.of(keyAllowed, scores, g.scalar(Gpt.MASKED_SCORE)));
        String weights = g.node("Softmax", List.of(scores), attr("axis", -1));
        String y = g.node("Transpose", List.of(g.node("MatMul", List.of(weights, v))), attrInts("perm", 0, 2, 1, 3));
        y = g.node("Reshape", List.of(y, g.ints(0, 0, config.dModel())));
        return linear(y, p + "c_proj");
    }

    /** (batch, seq, dModel) to (batch, heads, seq, headDim); Reshape's 0 keeps the dynamic dims. */
    private String splitHeads(String x) {
        String split = g.node("Reshape", List.of(x, g.ints(0, 0, config.heads(), config.headDim())));
        return g.node("Transpose", List.of(split), attrInts("perm", 0, 2, 1, 3));
    }

    /** c_proj(gelu(c_fc(x))) with GELU(x) = x * 0.5 * (1 + erf(x / sqrt 2)). */
    private String mlp(String prefix, String x) {
        String hidden = linear(x, prefix + ".c_fc");
        // Exact GELU, x * (1 + erf(x / sqrt 2)) * 0.5, written in the form ONNX Runtime fuses into one Gelu kernel.
        String erf = g.node("Erf", List.of(g.node("Div", List.of(hidden, g.scalar((float) Math.sqrt(2.0))))));
        String gelu = g.node("Mul", List.of(
                g.node("Mul", List.of(hidden, g.node("Add", List.of(erf, g.scalar(1.0f))))),
                g.scalar(0.5f)));
        return linear(gelu, prefix + ".c_proj");
    }

    private String layerNorm(String x, String prefix) {
        return g.node("LayerNormalization", List.of(x, weight(prefix + ".weight"), weight(prefix + ".bias")),
                attr("axis", -1), attr("epsilon", GptConfig.LAYER_NORM_EPS));
    }

    private String linear(String x, String prefix) {
        String product = g.node("MatMul", List.of(x, linearWeight(prefix + ".weight")));
        return g.node("Add", List.of(product, weight(prefix + ".bias")));
    }

    /** A parameter as an initializer under its own name, in the model's layout. */
    private String weight(String name) {
        if (!written.add(name)) {
            return name; // wte is read twice when the head is tied
        }
        Parameter p = model.parameter(name);
        return g.initializer(name, p.getArray().getShape().getShape(), p.getArray().toFloatArray());
    }

    /** A linear weight stored (out, in) by the model and written (in, out) so that MatMul needs no transpose. */
    private String linearWeight(String name) {
        Parameter p = model.parameter(name);
        long[] shape = p.getArray().getShape().getShape();
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        float[] data = p.getArray().toFloatArray();
        float[] transposed = new float[data.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                transposed[c * rows + r] = data[r * cols + c];
            }
        }
        return g.initializer(name, new long[] {cols, rows}, transposed);
    }
}
