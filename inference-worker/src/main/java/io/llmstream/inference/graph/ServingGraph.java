package io.llmstream.inference.graph;

import com.google.protobuf.InvalidProtocolBufferException;
import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.OperatorSetIdProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorShapeProto;
import io.llmstream.schemas.onnx.OnnxProto.ValueInfoProto;
import io.llmstream.schemas.onnx.OnnxProtos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The worker's variants of a decoder graph. The model directory is untouched: a variant exists only in the session.
 * Up to eight edits, made in this order:
 * <ul>
 *   <li><b>float16 computed in float32</b> ({@link FloatWidening}), on the CPU only, where ONNX Runtime computes most
 *       float16 ops by casting to float32 and back around each node.</li>
 *   <li><b>Conv1D as MatMul</b> ({@link Conv1dAsMatMul}): GPT-2's Reshape, Gemm, Reshape become a MatMul and an Add
 *       over the leading dims.</li>
 *   <li><b>Logits of the last positions.</b> One more input, {@link #LOGITS_TO_KEEP}, says how many of the last
 *       positions get logits (0: all). Generation needs the last position only, so a prefill of P prompt tokens
 *       computes one row of the output projection instead of P; with a vocabulary of 100k that projection is most of a
 *       prefill's work, and its logits most of its memory. The node that writes {@code logits} must be a
 *       {@code MatMul} of the hidden states {@code [batch, seq, hidden]} (ours, and Optimum's GPT-2/Llama-style exports,
 *       are), plain or 4-bit ({@code MatMulNBits}); its hidden-state input is replaced by
 *       {@code Slice(hidden, -keep, end, axis 1)}.</li>
 *   <li><b>Positions cut after the last attention</b> ({@link EarlyPositionCut}), for graphs our trainer exported: that
 *       cut moves up to the last layer's attention output, so the layer's projection, MLP and the final LayerNorm run
 *       on the kept positions only.</li>
 *   <li><b>Skip-LayerNorm fusion.</b> Each {@code LayerNormalization} of a sum (the residual stream before every
 *       LayerNorm of a GPT) becomes one ONNX Runtime {@code com.microsoft.SkipLayerNormalization} that adds, normalizes
 *       and still hands the sum on to the next residual; a bias {@code Add} that only feeds the sum folds in as well.
 *       ONNX Runtime's CPU kernel for {@code LayerNormalization} is several times slower per row than its skip
 *       variant (figures in docs/BENCHMARKS.md), and its own optimizer fuses a sum only when nothing else reads it, which a residual stream
 *       never allows. The fused kernel repeats its second operand over the first, so a first operand smaller than
 *       the second (broadcast over the batch) would be wrong; that is checked by running the variant
 *       ({@code model.BatchProbe}), not here.</li>
 *   <li><b>Attention fusion</b> ({@link AttentionFusion}), for graphs our trainer exported: each layer's attention
 *       becomes one {@code com.microsoft.MultiHeadAttention}.</li>
 *   <li><b>Causal mask rebuilt</b> ({@link CausalMask}), for graphs transformers exports: the mask the layers share is
 *       made from {@code attention_mask} in a dozen nodes instead of the forty-odd of the export.</li>
 *   <li><b>Transformers attention fusion</b> ({@link TransformersAttentionFusion}), for the decoders transformers
 *       exports (Llama family, GPT-2): each layer's rotary becomes ONNX Runtime's {@code RotaryEmbedding} and its
 *       attention reads the grouped kv heads without repeating them.</li>
 * </ul>
 * A graph whose weights live in external data files is edited too (the edits read shapes and small inline constants,
 * never the weights, and add no weights of their own), except for the float16 widening, which would need the weights'
 * values; the session made from the edited bytes finds the files through the model's folder (see {@code
 * model.ModelLoader}).
 */
public final class ServingGraph {

    /** int64 [1]: logits for the last this-many positions; 0 keeps all of them. */
    public static final String LOGITS_TO_KEEP = "llmstream_logits_to_keep";

    /** A graph to serve, and what was edited in it (for the log). */
    public record Variant(String edits, ModelProto model) {}

    private static final String PREFIX = "llmstream_keep/";
    /** The node that cuts the hidden states to the kept positions. */
    static final String KEEP_SLICE = PREFIX + "slice";
    private static final String FUSED_PREFIX = "llmstream_skip_ln/";
    static final String MS_DOMAIN = "com.microsoft";
    /** TensorProto.external_data and data_location: not in our subset of onnx.proto, so found among unknown fields. */
    private static final int EXTERNAL_DATA_FIELD = 13;
    private static final int DATA_LOCATION_FIELD = 14;
    /** Slice takes its starts, ends and axes as inputs from opset 10 on. */
    private static final long SLICE_INPUTS_OPSET = 10;
    /** The shape of the one-element vectors Slice takes. */
    private static final long[] VECTOR = {1};

    /** An edit and what it is called in the log. */
    private record Edit(String name, Function<ModelProto, Optional<ModelProto>> apply) {}

    private static final Edit WIDENING = new Edit("float16 computed in float32", FloatWidening::apply);

    /** In the order they are made; a variant that fails its load-time check falls back to one edit fewer. */
    private static final List<Edit> EDITS = List.of(
            new Edit("Conv1D as MatMul", Conv1dAsMatMul::apply),
            new Edit("logits of the last positions", ServingGraph::keepLastPositions),
            new Edit("positions cut after the last attention", EarlyPositionCut::apply),
            new Edit("skip-LayerNorm fusion", ServingGraph::fuseSkipLayerNorms),
            new Edit("attention fusion", AttentionFusion::apply),
            new Edit("causal mask rebuilt", CausalMask::apply),
            new Edit("transformers attention fusion", TransformersAttentionFusion::apply));

    private ServingGraph() {}

    /**
     * The variants of {@code model} to try, best first: every edit that applies, then one fewer at a time, the last
     * made first (in case a fusion's rule does not hold for this graph). Empty when no edit applies, or the bytes do
     * not parse (ONNX Runtime will say what is wrong with them).
     *
     * @param onCpu whether the session runs on the CPU, where a float16 graph is computed in float32
     */
    public static List<Variant> variants(byte[] model, boolean onCpu) {
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(model);
        } catch (InvalidProtocolBufferException e) {
            return List.of();
        }
        List<Variant> variants = new ArrayList<>();
        List<String> edits = new ArrayList<>();
        ModelProto current = proto;
        List<Edit> all = new ArrayList<>(EDITS);
        if (onCpu && !usesExternalData(proto.getGraph())) {
            all.add(0, WIDENING);
        }
        for (Edit edit : all) {
            Optional<ModelProto> next = edit.apply().apply(current);
            if (next.isPresent()) {
                current = next.get();
                edits.add(edit.name());
                variants.add(0, new Variant(String.join(", ", edits), current));
            }
        }
        return variants;
    }

    /** The graph with {@link #LOGITS_TO_KEEP}, or empty when its output projection is not one this edit applies to. */
    static Optional<ModelProto> keepLastPositions(ModelProto proto) {
        GraphProto graph = proto.getGraph();
        int head = -1;
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (graph.getNode(i).getOutputList().contains(OnnxNames.LOGITS)) {
                head = i;
            }
        }
        if (head < 0 || !isProjection(graph.getNode(head)) || defaultOpset(proto) < SLICE_INPUTS_OPSET
                || graph.getInputList().stream().anyMatch(v -> v.getName().equals(LOGITS_TO_KEEP)
                        || v.getName().equals(OnnxNames.NUM_LOGITS_TO_KEEP))) { // an export that keeps logits itself
            return Optional.empty();
        }
        NodeProto matMul = graph.getNode(head);
        String hidden = matMul.getInput(0);
        String start = PREFIX + "start";
        String kept = PREFIX + "hidden";
        GraphProto.Builder edited = graph.toBuilder()
                .addInput(OnnxProtos.valueInfo(LOGITS_TO_KEEP, TensorProto.DataType.INT64_VALUE, 1))
                .addInitializer(OnnxProtos.int64Tensor(PREFIX + "end", VECTOR, Long.MAX_VALUE))
                .addInitializer(OnnxProtos.int64Tensor(PREFIX + "axis", VECTOR, 1))
                .setNode(head, matMul.toBuilder().setInput(0, kept));
        // Slice and its start go right before the projection, keeping the nodes in topological order.
        edited.addNode(head, OnnxProtos.node("Neg", PREFIX + "neg", List.of(LOGITS_TO_KEEP), List.of(start)));
        edited.addNode(head + 1, OnnxProtos.node("Slice", KEEP_SLICE,
                List.of(hidden, start, PREFIX + "end", PREFIX + "axis"), List.of(kept)));
        for (int i = 0; i < edited.getOutputCount(); i++) {
            if (edited.getOutput(i).getName().equals(OnnxNames.LOGITS)) {
                edited.setOutput(i, keptPositions(edited.getOutput(i)));
            }
        }
        return Optional.of(proto.toBuilder().setGraph(edited).build());
    }

    /**
     * The graph with each {@code LayerNormalization(a + b)} over the last axis, with 1-D initializers for scale and
     * bias, replaced by {@code SkipLayerNormalization(a, b, scale, bias[, addBias])}; empty when there is none. The
     * fused node stands where the sum was, so everything it reads is already computed and everything reading the sum
     * (its fourth output) or the normalized values comes after.
     */
    static Optional<ModelProto> fuseSkipLayerNorms(ModelProto proto) {
        GraphProto graph = proto.getGraph();
        GraphIndex g = new GraphIndex(graph);
        Map<Integer, List<NodeProto>> fusedAt = new HashMap<>();
        Set<Integer> dropped = new HashSet<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto norm = graph.getNode(i);
            if (!isLastAxisLayerNorm(norm, g)) {
                continue;
            }
            int at = g.producer(norm.getInput(0));
            if (at < 0 || fusedAt.containsKey(at) || dropped.contains(at)) {
                continue;
            }
            NodeProto sum = graph.getNode(at);
            if (!isAdd(sum) || g.isFixed(sum.getInput(0)) || g.isFixed(sum.getInput(1))) {
                continue; // a sum of two computed tensors, not a bias
            }
            List<String> inputs = new ArrayList<>(List.of(sum.getInput(0), sum.getInput(1), norm.getInput(1),
                    norm.getInputCount() > 2 ? norm.getInput(2) : ""));
            for (int side = 0; side < 2; side++) {
                int b = g.producer(sum.getInput(side));
                if (b >= 0 && !dropped.contains(b) && !fusedAt.containsKey(b) && g.uses(sum.getInput(side)) == 1) {
                    Optional<String[]> biased = biasAdd(graph.getNode(b), g);
                    if (biased.isPresent()) {
                        inputs.set(side, biased.get()[0]);
                        inputs.add(biased.get()[1]);
                        dropped.add(b);
                        break;
                    }
                }
            }
            String total = sum.getOutput(0);
            List<String> outputs = g.uses(total) > 1
                    ? List.of(norm.getOutput(0), "", "", total) // the residual stream goes on from the sum
                    : List.of(norm.getOutput(0));
            NodeProto.Builder fused = OnnxProtos.node("SkipLayerNormalization", FUSED_PREFIX + norm.getName(), inputs,
                    outputs).toBuilder().setDomain(MS_DOMAIN);
            norm.getAttributeList().stream().filter(a -> a.getName().equals("epsilon")).forEach(fused::addAttribute);
            fusedAt.put(at, List.of(fused.build()));
            dropped.add(i);
        }
        if (fusedAt.isEmpty()) {
            return Optional.empty();
        }
        GraphProto.Builder edited = graph.toBuilder().clearNode().addAllNode(g.nodesWith(fusedAt, dropped));
        return Optional.of(withMicrosoftOps(proto.toBuilder().setGraph(edited).build()));
    }

    /** The model with ONNX Runtime's contrib domain among its opset imports. */
    static ModelProto withMicrosoftOps(ModelProto proto) {
        if (proto.getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals(MS_DOMAIN))) {
            return proto;
        }
        return proto.toBuilder().addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1)).build();
    }

    /** A {@code LayerNormalization} over the last axis with one output and 1-D initializers for scale and bias. */
    static boolean isLastAxisLayerNorm(NodeProto node, GraphIndex g) {
        if (!GraphIndex.isOp(node, "LayerNormalization") || node.getInputCount() < 2
                || node.getOutputCount() != 1) {
            return false;
        }
        boolean lastAxis = node.getAttributeList().stream().noneMatch(a -> a.getName().equals("axis") && a.getI() != -1);
        boolean vectors = node.getInputList().subList(1, node.getInputCount()).stream()
                .allMatch(name -> name.isEmpty() || isVector(g.fixedValue(name)));
        return lastAxis && vectors;
    }

    /** {@code [input, bias]} of {@code x + bias} with a 1-D initializer for bias (either side), else empty. */
    private static Optional<String[]> biasAdd(NodeProto node, GraphIndex g) {
        if (!isAdd(node)) {
            return Optional.empty();
        }
        for (int side = 0; side < 2; side++) {
            String other = node.getInput(1 - side);
            if (isVector(g.fixedValue(node.getInput(side))) && !g.isFixed(other)) {
                return Optional.of(new String[] {other, node.getInput(side)});
            }
        }
        return Optional.empty();
    }

    private static boolean isAdd(NodeProto node) {
        return GraphIndex.isOp(node, "Add") && node.getInputCount() == 2
                && node.getOutputCount() == 1;
    }

    private static boolean isVector(TensorProto tensor) {
        return tensor != null && tensor.getDimsCount() == 1;
    }

    /** A MatMul of the hidden states and the weights, plain or 4-bit ({@code com.microsoft.MatMulNBits}, q4 exports). */
    private static boolean isProjection(NodeProto node) {
        return GraphIndex.isOp(node, "MatMul") && node.getInputCount() == 2
                || node.getOpType().equals("MatMulNBits") && node.getDomain().equals(MS_DOMAIN);
    }

    /**
     * Whether the graph reads as a decoder transformers exported (through Optimum or onnx-community): not our
     * exporter's, and fed {@code input_ids} and {@code attention_mask}.
     */
    static boolean isTransformersDecoder(ModelProto proto, GraphIndex g) {
        return !OnnxNames.PRODUCER.equals(proto.getProducerName()) && g.isInput(OnnxNames.INPUT_IDS)
                && g.isInput(OnnxNames.ATTENTION_MASK);
    }

    static long defaultOpset(ModelProto proto) {
        return proto.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(o -> o.getVersion()).max().orElse(0);
    }

    private static boolean usesExternalData(GraphProto graph) {
        return graph.getInitializerList().stream()
                .anyMatch(t -> t.getUnknownFields().hasField(DATA_LOCATION_FIELD)
                        || t.getUnknownFields().hasField(EXTERNAL_DATA_FIELD));
    }

    /** The logits' declared sequence dimension becomes a new symbol: it is now the kept positions. */
    private static ValueInfoProto keptPositions(ValueInfoProto logits) {
        if (logits.getType().getTensorType().getShape().getDimCount() == 3) {
            ValueInfoProto.Builder b = logits.toBuilder();
            b.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder()
                    .setDim(1, TensorShapeProto.Dimension.newBuilder().setDimParam("kept_positions"));
            return b.build();
        }
        return logits;
    }
}
