package io.llmstream.inference.graph;

import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProtos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One edit of {@link ServingGraph}: in a graph our trainer exported ({@code producer_name} {@link OnnxNames#PRODUCER}), the
 * attention of each layer, from the heads split off q, k and v to the heads merged back, becomes one ONNX Runtime
 * {@code com.microsoft.MultiHeadAttention}: sixteen nodes per layer (Reshape and Transpose of q, k and v, the two
 * cache Concats, the scores, their scale, mask and Softmax, the weighted sum and the merge) become one kernel, whose
 * cost per run does not grow with the node count. The exporter's mask is causal in cache slots and hides the keys whose
 * {@code attention_mask} is 0; the fused node gets the same as {@code unidirectional} with that mask as key padding,
 * so the mask subgraph the layers shared falls out of use and is dropped. Only graphs of that producer are edited: the
 * mask's meaning is read from the exporter, not from the graph.
 *
 * <p>The pattern is the trainer's {@code OnnxExporter} attention, node for node: a change there must change this, and
 * {@code ServingGraphTest.attentionFusionKeepsTheLogitsAndLeavesOneNodePerLayer} fails until it does (an unmatched
 * graph is served unfused, so users never get a wrong graph). The exporter writes plain ONNX on purpose; see its
 * class comment.
 */
final class AttentionFusion {

    private static final String PREFIX = "llmstream_mha/";
    private static final String KEY_PADDING = PREFIX + "key_padding_mask";

    private AttentionFusion() {}

    /** The graph with every layer's attention fused, or empty when it is not ours or a layer has another shape. */
    static Optional<ModelProto> apply(ModelProto proto) {
        if (!OnnxNames.PRODUCER.equals(proto.getProducerName())) {
            return Optional.empty();
        }
        GraphProto graph = proto.getGraph();
        GraphIndex g = new GraphIndex(graph);
        Map<Integer, List<NodeProto>> fusedAt = new HashMap<>();
        Set<Integer> dropped = new HashSet<>();
        for (int layer = 0; g.isInput(OnnxNames.pastKey(layer)); layer++) {
            if (!fuse(g, layer, fusedAt, dropped)) {
                return Optional.empty();
            }
        }
        if (fusedAt.isEmpty()) {
            return Optional.empty();
        }
        List<NodeProto> nodes = new ArrayList<>();
        nodes.add(OnnxProtos.node("Cast", PREFIX + "cast_mask", List.of(OnnxNames.ATTENTION_MASK), List.of(KEY_PADDING),
                GraphIndex.intAttribute("to", TensorProto.DataType.INT32_VALUE)));
        nodes.addAll(g.nodesWith(fusedAt, dropped));
        return Optional.of(ServingGraph.withMicrosoftOps(proto.toBuilder().setGraph(GraphIndex.withoutUnused(nodes, graph)).build()));
    }

    /** Matches layer {@code layer}'s attention; on success records its fused node and the nodes it replaces. */
    private static boolean fuse(GraphIndex g, int layer, Map<Integer, List<NodeProto>> fusedAt, Set<Integer> dropped) {
        String presentKey = OnnxNames.presentKey(layer);
        String presentValue = OnnxNames.presentValue(layer);
        int keyCache = cacheConcat(g, OnnxNames.pastKey(layer), presentKey);
        int valueCache = cacheConcat(g, OnnxNames.pastValue(layer), presentValue);
        if (keyCache < 0 || valueCache < 0) {
            return false;
        }
        Heads k = splitHeads(g, g.node(keyCache).getInput(1));
        Heads v = splitHeads(g, g.node(valueCache).getInput(1));
        List<Integer> keyReaders = g.readers(presentKey);
        List<Integer> valueReaders = g.readers(presentValue);
        if (k == null || v == null || keyReaders.size() != 1 || valueReaders.size() != 1) {
            return false;
        }
        int keysT = keyReaders.get(0);
        int scores = next(g, keysT, "MatMul");
        int scaled = next(g, scores, "Mul");
        int masked = next(g, scaled, "Where");
        int softmax = next(g, masked, "Softmax");
        int weighted = next(g, softmax, "MatMul");
        int merged = next(g, weighted, "Transpose");
        int output = next(g, merged, "Reshape");
        if (output < 0 || !GraphIndex.isOp(g.node(keysT), "Transpose")
                || !GraphIndex.hasInts(g.node(keysT), "perm", 0, 1, 3, 2)
                || !g.node(scores).getInput(1).equals(g.node(keysT).getOutput(0)) || !lastAxis(g.node(softmax))
                || weighted != valueReaders.get(0) || !g.node(weighted).getInput(1).equals(presentValue)
                || !GraphIndex.hasInts(g.node(merged), "perm", 0, 2, 1, 3)) {
            return false;
        }
        Heads q = splitHeads(g, g.node(scores).getInput(0));
        Float scale = scalarOperand(g, g.node(scaled), g.node(scores).getOutput(0));
        if (q == null || scale == null || q.heads != k.heads || k.heads != v.heads) {
            return false;
        }
        NodeProto fused = OnnxProtos.node("MultiHeadAttention", PREFIX + layer,
                        List.of(q.source, k.source, v.source, "", KEY_PADDING, "",
                                OnnxNames.pastKey(layer), OnnxNames.pastValue(layer)),
                        List.of(g.node(output).getOutput(0), presentKey, presentValue),
                        GraphIndex.intAttribute("num_heads", q.heads), GraphIndex.intAttribute("unidirectional", 1),
                        GraphIndex.floatAttribute("scale", scale))
                .toBuilder().setDomain(ServingGraph.MS_DOMAIN).build();
        fusedAt.put(output, List.of(fused));
        dropped.addAll(List.of(q.reshape, q.transpose, k.reshape, k.transpose, v.reshape, v.transpose, keyCache,
                valueCache, keysT, scores, scaled, masked, softmax, weighted, merged, output));
        return true;
    }

    /** The only reader of node {@code at}'s output when it is a {@code opType}, else -1 (also when {@code at} is -1). */
    private static int next(GraphIndex g, int at, String opType) {
        if (at < 0) {
            return -1;
        }
        int reader = g.onlyReader(g.node(at).getOutput(0));
        return reader >= 0 && GraphIndex.isOp(g.node(reader), opType) ? reader : -1;
    }

    /** A value of shape (batch, seq, heads * headDim) made (batch, heads, seq, headDim) by a Reshape and a Transpose. */
    private record Heads(String source, long heads, int reshape, int transpose) {}

    private static Heads splitHeads(GraphIndex g, String value) {
        int transpose = g.producer(value);
        if (transpose < 0 || g.onlyReader(value) < 0 || !GraphIndex.isOp(g.node(transpose), "Transpose")
                || !GraphIndex.hasInts(g.node(transpose), "perm", 0, 2, 1, 3)) {
            return null;
        }
        int reshape = g.producer(g.node(transpose).getInput(0));
        if (reshape < 0 || !GraphIndex.isOp(g.node(reshape), "Reshape") || g.onlyReader(g.node(reshape).getOutput(0)) != transpose) {
            return null;
        }
        TensorProto shape = g.initializer(g.node(reshape).getInput(1));
        if (shape == null || shape.getInt64DataCount() != 4 || shape.getInt64Data(2) <= 0) {
            return null;
        }
        return new Heads(g.node(reshape).getInput(0), shape.getInt64Data(2), reshape, transpose);
    }

    /** The node writing {@code present} as Concat(past, new heads) on the slot axis, or -1. */
    private static int cacheConcat(GraphIndex g, String past, String present) {
        int at = g.producer(present);
        if (at < 0) {
            return -1;
        }
        NodeProto n = g.node(at);
        boolean slots = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("axis") && a.getI() == 2);
        return GraphIndex.isOp(n, "Concat") && n.getInputCount() == 2 && n.getInput(0).equals(past) && slots ? at : -1;
    }

    /** The scalar float initializer {@code node} multiplies {@code value} by, or null. */
    private static Float scalarOperand(GraphIndex g, NodeProto node, String value) {
        if (node.getInputCount() != 2) {
            return null;
        }
        String other = node.getInput(0).equals(value) ? node.getInput(1) : node.getInput(0);
        TensorProto t = g.initializer(other);
        return t != null && t.getDimsCount() == 0 && t.getFloatDataCount() == 1 ? t.getFloatData(0) : null;
    }

    private static boolean lastAxis(NodeProto softmax) {
        return softmax.getAttributeList().stream().allMatch(a -> !a.getName().equals("axis") || a.getI() == -1 || a.getI() == 3);
    }
}
