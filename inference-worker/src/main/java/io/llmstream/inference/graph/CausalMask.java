package io.llmstream.inference.graph;

import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProtos;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One edit of {@link ServingGraph}, for graphs transformers exports: the boolean attention mask every layer reads,
 * {@code [batch, 1, seq, total]}, is rebuilt from {@code attention_mask} in a dozen nodes. transformers traces its
 * mask functions into some forty-five nodes of index arithmetic (cache positions, a padding lookup through a flattened
 * mask, Expand shape fix-ups), whose fixed cost per node is a large share of a small model's decode step.
 *
 * <p>The rebuilt mask is the one those nodes compute for a causal decoder: key slot {@code j} is visible to new token
 * {@code i} when {@code j <= past + i} and {@code attention_mask[b, j]} is 1. Only a mask of exactly that kind is
 * replaced: the nodes it is made of may read nothing but {@code attention_mask} and the shapes of other values, use
 * index arithmetic only, and compare positions once, with {@code LessOrEqual}; a sliding window, chunked attention or
 * packed sequences compare more and are left as they are. Every layer must read the same mask, as a {@code Where}
 * that turns it into the additive bias before the Softmax.
 */
final class CausalMask {

    private static final String PREFIX = "llmstream_mask/";
    /** What the mask's nodes may be besides Shape (whose input only lends its shape) and the one comparison. */
    private static final Set<String> INDEX_ARITHMETIC = Set.of("Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape",
            "Cast", "Range", "Add", "Mul", "And", "Expand", "Flatten", "ConstantOfShape", "Equal", "Where", "Constant",
            "Identity");
    private static final Set<String> COMPARISONS = Set.of("LessOrEqual", "Less", "Greater", "GreaterOrEqual");
    /** Unsqueeze takes its axes as an input from opset 13 on. */
    private static final long MIN_OPSET = 13;

    private CausalMask() {}

    /** The graph with its causal mask rebuilt, or empty when it has none of that kind. */
    static Optional<ModelProto> apply(ModelProto proto) {
        GraphProto graph = proto.getGraph();
        GraphIndex g = new GraphIndex(graph);
        if (!ServingGraph.isTransformersDecoder(proto, g) || ServingGraph.defaultOpset(proto) < MIN_OPSET) {
            return Optional.empty();
        }
        String mask = sharedMask(g, graph);
        int at = mask == null ? -1 : g.producer(mask);
        if (at < 0 || !isCausalAndPadding(g, mask)) {
            return Optional.empty();
        }
        List<NodeProto> rebuilt = rebuilt(mask);
        GraphProto edited = GraphIndex.withoutUnused(g.nodesWith(Map.of(at, rebuilt), Set.of()), graph).toBuilder()
                .addInitializer(OnnxProtos.int64Tensor(PREFIX + "zero", new long[] {}, 0))
                .addInitializer(OnnxProtos.int64Tensor(PREFIX + "one", new long[] {}, 1))
                .addInitializer(OnnxProtos.int64Tensor(PREFIX + "axis0", new long[] {1}, 0))
                .addInitializer(OnnxProtos.int64Tensor(PREFIX + "axis1", new long[] {1}, 1))
                .addInitializer(OnnxProtos.int64Tensor(PREFIX + "axes12", new long[] {2}, 1, 2))
                .build();
        return Optional.of(proto.toBuilder().setGraph(edited).build());
    }

    /**
     * The boolean mask all layers turn into their bias as {@code Where(mask, 0, very negative)} added to the scores
     * before each Softmax, or null when the layers read different masks or another kind.
     */
    private static String sharedMask(GraphIndex g, GraphProto graph) {
        String found = null;
        for (NodeProto softmax : graph.getNodeList()) {
            if (!GraphIndex.isOp(softmax, "Softmax")) {
                continue;
            }
            int add = g.producer(softmax.getInput(0));
            if (add < 0 || !GraphIndex.isOp(g.node(add), "Add")) {
                return null;
            }
            String mask = null;
            for (String term : g.node(add).getInputList()) {
                int where = g.producer(term);
                Double fill = where < 0 ? null : g.maskFill(g.node(where));
                if (fill != null && fill < -1e30) { // the float minimum or -inf
                    mask = g.node(where).getInput(0);
                }
            }
            if (mask == null || found != null && !found.equals(mask)) {
                return null;
            }
            found = mask;
        }
        return found;
    }

    /** Whether the nodes {@code mask} is made of read only attention_mask and shapes, with one LessOrEqual. */
    private static boolean isCausalAndPadding(GraphIndex g, String mask) {
        Deque<String> pending = new ArrayDeque<>(List.of(mask));
        Set<String> seen = new HashSet<>();
        int comparisons = 0;
        boolean readsMask = false;
        while (!pending.isEmpty()) {
            String value = pending.pop();
            if (!seen.add(value) || value.isEmpty() || g.initializer(value) != null) {
                continue;
            }
            int at = g.producer(value);
            if (at < 0) {
                if (!value.equals(OnnxNames.ATTENTION_MASK)) {
                    return false; // reads another input's values, such as position_ids
                }
                readsMask = true;
                continue;
            }
            NodeProto n = g.node(at);
            if (!n.getDomain().isEmpty()) {
                return false;
            }
            if (n.getOpType().equals("Shape")) {
                continue;
            }
            if (COMPARISONS.contains(n.getOpType())) {
                if (!n.getOpType().equals("LessOrEqual") || ++comparisons > 1) {
                    return false;
                }
            } else if (!INDEX_ARITHMETIC.contains(n.getOpType())) {
                return false;
            }
            pending.addAll(n.getInputList());
        }
        return readsMask && comparisons == 1;
    }

    /** {@code attention_mask[b, j] and j <= total - seq + i}, as {@code [batch, 1, seq, total]}, written to {@code mask}. */
    private static List<NodeProto> rebuilt(String mask) {
        String p = PREFIX;
        return List.of(
                OnnxProtos.node("Shape", p + "mask_shape", List.of(OnnxNames.ATTENTION_MASK), List.of(p + "mask_shape")),
                OnnxProtos.node("Shape", p + "ids_shape", List.of(OnnxNames.INPUT_IDS), List.of(p + "ids_shape")),
                OnnxProtos.node("Gather", p + "total", List.of(p + "mask_shape", p + "one"), List.of(p + "total")),
                OnnxProtos.node("Gather", p + "seq", List.of(p + "ids_shape", p + "one"), List.of(p + "seq")),
                OnnxProtos.node("Sub", p + "past", List.of(p + "total", p + "seq"), List.of(p + "past")),
                OnnxProtos.node("Range", p + "slots", List.of(p + "zero", p + "total", p + "one"), List.of(p + "slots")),
                OnnxProtos.node("Range", p + "new_slots", List.of(p + "past", p + "total", p + "one"),
                        List.of(p + "new_slots")),
                OnnxProtos.node("Unsqueeze", p + "key_row", List.of(p + "slots", p + "axis0"), List.of(p + "key_row")),
                OnnxProtos.node("Unsqueeze", p + "query_column", List.of(p + "new_slots", p + "axis1"),
                        List.of(p + "query_column")),
                OnnxProtos.node("LessOrEqual", p + "causal", List.of(p + "key_row", p + "query_column"),
                        List.of(p + "causal")),
                OnnxProtos.node("Unsqueeze", p + "padding_rows", List.of(OnnxNames.ATTENTION_MASK, p + "axes12"),
                        List.of(p + "padding_rows")),
                OnnxProtos.node("Cast", p + "padding", List.of(p + "padding_rows"), List.of(p + "padding"),
                        GraphIndex.intAttribute("to", TensorProto.DataType.BOOL_VALUE)),
                OnnxProtos.node("And", p + "visible", List.of(p + "padding", p + "causal"), List.of(mask)));
    }
}
