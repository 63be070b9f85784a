package io.llmstream.trainer;

import ai.djl.nn.Parameter;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.OperatorSetIdProto;

import io.llmstream.schemas.model.OnnxNames;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
 * Exports a {@link Gpt} or a {@link Llama} as an ONNX decoder with a KV cache, opset 17, standard operators only, under
 * HuggingFace Optimum's input and output names ({@link OnnxNames}; a Llama's past/present have its kvHeads heads).
 * Positions come from {@code position_ids} (so left padding with {@code cumsum(mask) - 1} works); a query attends to
 * the keys at or before its own cache slot whose {@code attention_mask} is 1. The first step passes a zero-length past.
 * A model with a classification head has its label logits after the vocabulary's in {@code logits}
 * ({@link Decoder#outputs}).
 *
 * <p>The graph repeats the model's forward pass node by node ({@code OnnxParityTest} holds them equal), and the
 * worker's {@code AttentionFusion} matches the GPT graph's attention nodes exactly ({@code ServingGraphTest}); it
 * leaves the Llama graph, whose keys pass through the rotary embedding, as it is. It stays plain
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

    private final Decoder model;
    private final OnnxGraphBuilder g;
    private final Set<String> written = new HashSet<>();

    private OnnxExporter(Decoder model, String graphName) {
        this.model = model;
        this.g = new OnnxGraphBuilder(graphName);
    }

    /** The serialized ModelProto. Reads the current weights; do not train the model while this runs. */
    public static byte[] export(Decoder model) {
        ModelConfig config = model.config();
        OnnxExporter exporter = new OnnxExporter(model, "llmstream-" + config.getClass().getSimpleName());
        exporter.declareInputsAndOutputs(config);
        if (config instanceof GptConfig gpt) {
            exporter.gpt(gpt);
        } else {
            exporter.llama((LlamaConfig) config);
        }
        return exporter.model().toByteArray();
    }

    public static void write(Decoder model, Path file) throws IOException {
        Files.write(file, export(model));
    }

    private ModelProto model() {
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName(OnnxNames.PRODUCER)
                .setProducerVersion(Objects.requireNonNullElse(OnnxExporter.class.getPackage().getImplementationVersion(), "dev"))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.build())
                .build();
    }

    private void gpt(GptConfig config) {
        String x = g.node("Add", List.of(
                g.node("Gather", List.of(weight("wte"), INPUT_IDS), attr("axis", 0)),
                g.node("Gather", List.of(weight("wpe"), POSITION_IDS), attr("axis", 0))));
        String keyAllowed = keyAllowed();
        for (int i = 0; i < config.layers(); i++) {
            String p = "h." + i + ".";
            x = g.node("Add", List.of(x, gptAttention(config, i, layerNorm(x, p + "ln_1"), keyAllowed)));
            x = g.node("Add", List.of(x, gptMlp(p + "mlp", layerNorm(x, p + "ln_2"), config.tanhGelu())));
        }
        head(layerNorm(x, "ln_f"), config.tieEmbeddings(), "wte");
    }

    private void llama(LlamaConfig config) {
        String x = g.node("Gather", List.of(weight("model.embed_tokens.weight"), INPUT_IDS), attr("axis", 0));
        String keyAllowed = keyAllowed();
        // The model's own cos and sin tables, looked up by position: (batch, 1, seq, headDim) for every layer.
        float[][] tables = ((Llama) model).rotaryTables();
        long[] table = {config.contextLength(), config.headDim()};
        String cos = g.node("Unsqueeze", List.of(g.node("Gather", List.of(
                g.initializer("rotary.cos", table, tables[0]), POSITION_IDS), attr("axis", 0)), g.ints(1)));
        String sin = g.node("Unsqueeze", List.of(g.node("Gather", List.of(
                g.initializer("rotary.sin", table, tables[1]), POSITION_IDS), attr("axis", 0)), g.ints(1)));
        for (int i = 0; i < config.layers(); i++) {
            String p = "model.layers." + i + ".";
            String h = rmsNorm(x, p + "input_layernorm.weight", config.rmsNormEps());
            x = g.node("Add", List.of(x, llamaAttention(config, i, h, keyAllowed, cos, sin)));
            h = rmsNorm(x, p + "post_attention_layernorm.weight", config.rmsNormEps());
            x = g.node("Add", List.of(x, swiGlu(p + "mlp.", h)));
        }
        head(rmsNorm(x, "model.norm.weight", config.rmsNormEps()), config.tieEmbeddings(), "model.embed_tokens.weight");
    }

    /**
     * The logits; a tied head is a Transpose of the embeddings that ONNX Runtime folds at load, not a second copy. A
     * classification head's rows follow the vocabulary's in one projection matrix (then a tied one is copied), so the
     * graph ends in the same single MatMul the worker's serving edits look for.
     */
    private void head(String x, boolean tied, String embeddings) {
        String vocabulary = tied ? embeddings : "lm_head.weight";
        List<String> labels = model.config().classLabels();
        String head;
        if (labels.isEmpty()) {
            head = tied ? g.node("Transpose", List.of(weight(embeddings)), attrInts("perm", 1, 0))
                    : linearWeight(vocabulary);
        } else {
            float[] tokens = model.parameter(vocabulary).getArray().toFloatArray();
            float[] classes = model.parameter(Decoder.CLASS_HEAD).getArray().toFloatArray();
            float[] rows = Arrays.copyOf(tokens, tokens.length + classes.length);
            System.arraycopy(classes, 0, rows, tokens.length, classes.length);
            int width = model.outputWidth();
            int d = model.config().dModel();
            head = g.initializer("lm_head_and_" + Decoder.CLASS_HEAD, new long[] {d, width},
                    Matrices.transpose(rows, width, d));
        }
        g.nodeTo("MatMul", LOGITS, List.of(x, head));
    }

    /** The Optimum decoder-with-past signature; the cache has kvHeads heads (GQA shows there). */
    private void declareInputsAndOutputs(ModelConfig config) {
        long heads = config.kvHeads();
        long headDim = config.headDim();
        g.input(INPUT_IDS, INT64, BATCH, SEQ);
        g.input(ATTENTION_MASK, INT64, BATCH, TOTAL);
        g.input(POSITION_IDS, INT64, BATCH, SEQ);
        g.output(LOGITS, FLOAT, BATCH, SEQ, (long) config.vocabSize() + config.classLabels().size());
        for (int i = 0; i < config.layers(); i++) {
            g.input(pastKey(i), FLOAT, BATCH, heads, PAST, headDim);
            g.input(pastValue(i), FLOAT, BATCH, heads, PAST, headDim);
            g.output(presentKey(i), FLOAT, BATCH, heads, TOTAL, headDim);
            g.output(presentValue(i), FLOAT, BATCH, heads, TOTAL, headDim);
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

    private String gptAttention(GptConfig config, int layer, String x, String keyAllowed) {
        String p = "h." + layer + ".attn.";
        List<String> qkv = g.node("Split", 3, List.of(linear(x, p + "c_attn")), attr("axis", 2));
        int heads = config.heads();
        int headDim = config.headDim();
        String q = splitHeads(qkv.get(0), heads, headDim);
        String k = g.nodeTo("Concat", presentKey(layer),
                List.of(pastKey(layer), splitHeads(qkv.get(1), heads, headDim)), attr("axis", 2));
        String v = g.nodeTo("Concat", presentValue(layer),
                List.of(pastValue(layer), splitHeads(qkv.get(2), heads, headDim)), attr("axis", 2));
        return linear(attend(q, k, v, keyAllowed, config.dModel(), headDim), p + "c_proj");
    }

    /** q, k and v projected, split into heads, q and k rotated; k and v cached with kvHeads heads, then repeated. */
    private String llamaAttention(LlamaConfig config, int layer, String x, String keyAllowed, String cos, String sin) {
        String p = "model.layers." + layer + ".self_attn.";
        int headDim = config.headDim();
        String q = rotate(splitHeads(projection(x, p + "q_proj", config.qkvBias()), config.heads(), headDim), cos, sin, headDim);
        String k = rotate(splitHeads(projection(x, p + "k_proj", config.qkvBias()), config.kvHeads(), headDim), cos, sin, headDim);
        String v = splitHeads(projection(x, p + "v_proj", config.qkvBias()), config.kvHeads(), headDim);
        k = g.nodeTo("Concat", presentKey(layer), List.of(pastKey(layer), k), attr("axis", 2));
        v = g.nodeTo("Concat", presentValue(layer), List.of(pastValue(layer), v), attr("axis", 2));
        int groups = config.heads() / config.kvHeads();
        String y = attend(q, repeatKv(k, groups, config.heads(), headDim), repeatKv(v, groups, config.heads(), headDim),
                keyAllowed, config.dModel(), headDim);
        return g.node("MatMul", List.of(y, linearWeight(p + "o_proj.weight")));
    }

    /** softmax(q k^T / sqrt(headDim), masked) v for q (batch, heads, seq, headDim), merged to (batch, seq, width). */
    private String attend(String q, String k, String v, String keyAllowed, int width, int headDim) {
        String scores = g.node("Mul", List.of(
                g.node("MatMul", List.of(q, g.node("Transpose", List.of(k), attrInts("perm", 0, 1, 3, 2)))),
                g.scalar((float) (1.0 / Math.sqrt(headDim)))));
        scores = g.node("Where", List.of(keyAllowed, scores, g.scalar(Gpt.MASKED_SCORE)));
        String weights = g.node("Softmax", List.of(scores), attr("axis", -1));
        String y = g.node("Transpose", List.of(g.node("MatMul", List.of(weights, v))), attrInts("perm", 0, 2, 1, 3));
        return g.node("Reshape", List.of(y, g.ints(0, 0, width)));
    }

    /** (batch, seq, heads * headDim) to (batch, heads, seq, headDim); Reshape's 0 keeps the dynamic dims. */
    private String splitHeads(String x, int heads, int headDim) {
        String split = g.node("Reshape", List.of(x, g.ints(0, 0, heads, headDim)));
        return g.node("Transpose", List.of(split), attrInts("perm", 0, 2, 1, 3));
    }

    /** x cos + rotateHalf(x) sin with rotateHalf(x) = (-x[half:], x[:half]) on the last axis. */
    private String rotate(String x, String cos, String sin, int headDim) {
        long half = headDim / 2;
        String first = g.node("Slice", List.of(x, g.ints(0), g.ints(half), g.ints(-1)));
        String second = g.node("Slice", List.of(x, g.ints(half), g.ints(headDim), g.ints(-1)));
        String rotated = g.node("Concat", List.of(g.node("Neg", List.of(second)), first), attr("axis", -1));
        return g.node("Add", List.of(g.node("Mul", List.of(x, cos)), g.node("Mul", List.of(rotated, sin))));
    }

    /** (batch, kvHeads, total, headDim) to (batch, heads, total, headDim): key/value head h / groups for query head h. */
    private String repeatKv(String x, int groups, int heads, int headDim) {
        if (groups == 1) {
            return x;
        }
        String expanded = g.node("Expand", List.of(g.node("Unsqueeze", List.of(x, g.ints(2))), g.ints(1, 1, groups, 1, 1)));
        return g.node("Reshape", List.of(expanded, g.ints(0, heads, -1, headDim)));
    }

    /** down(silu(gate(x)) * up(x)), silu(x) = x * sigmoid(x). */
    private String swiGlu(String prefix, String x) {
        String gate = g.node("MatMul", List.of(x, linearWeight(prefix + "gate_proj.weight")));
        String silu = g.node("Mul", List.of(gate, g.node("Sigmoid", List.of(gate))));
        String up = g.node("MatMul", List.of(x, linearWeight(prefix + "up_proj.weight")));
        return g.node("MatMul", List.of(g.node("Mul", List.of(silu, up)), linearWeight(prefix + "down_proj.weight")));
    }

    /** weight * x / sqrt(mean(x^2) + eps) over the last axis, as {@link Llama} computes it. */
    private String rmsNorm(String x, String weightName, float eps) {
        String meanSquare = g.node("ReduceMean", List.of(g.node("Mul", List.of(x, x))), attrInts("axes", -1), attr("keepdims", 1));
        String rms = g.node("Sqrt", List.of(g.node("Add", List.of(meanSquare, g.scalar(eps)))));
        return g.node("Mul", List.of(g.node("Div", List.of(x, rms)), weight(weightName)));
    }

    private String projection(String x, String prefix, boolean bias) {
        return bias ? linear(x, prefix) : g.node("MatMul", List.of(x, linearWeight(prefix + ".weight")));
    }

    /** c_proj(gelu(c_fc(x))) with GELU(x) = x * 0.5 * (1 + erf(x / sqrt 2)), or its tanh approximation. */
    private String gptMlp(String prefix, String x, boolean tanhGelu) {
        String hidden = linear(x, prefix + ".c_fc");
        if (tanhGelu) {
            String cube = g.node("Mul", List.of(g.node("Mul", List.of(hidden, hidden)), hidden));
            String inner = g.node("Mul", List.of(g.node("Add", List.of(hidden, g.node("Mul", List.of(cube, g.scalar(0.044715f))))),
                    g.scalar((float) Math.sqrt(2 / Math.PI))));
            String gelu = g.node("Mul", List.of(g.node("Mul", List.of(hidden, g.scalar(0.5f))),
                    g.node("Add", List.of(g.node("Tanh", List.of(inner)), g.scalar(1.0f)))));
            return linear(gelu, prefix + ".c_proj");
        }
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
            return name; // the embeddings are read twice when the head is tied
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
        return g.initializer(name, new long[] {cols, rows}, Matrices.transpose(p.getArray().toFloatArray(), rows, cols));
    }
}
