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
 * One edit of {@link ServingGraph}, made on a graph that already keeps the logits of its last positions only: the cut
 * to those positions moves up from the output projection to where positions last mix, the last layer's attention. Its
 * output projection, residual sums, MLP and the final LayerNorm work on each position alone, so for the positions
 * whose logits nobody reads they are wasted work; in a prefill of P tokens that is nearly all of them. The last layer's
 * keys and values still come from every position (the cache needs them), so only what follows the attention moves.
 *
 * <p>Which nodes work on each position alone is read from their operators (a {@code MatMul} by a weight matrix,
 * element-wise arithmetic with vectors or scalars, a LayerNorm or a mean over the last axis, as an RMSNorm exports);
 * the values cut are then the ones those nodes read from before the cut. That every such value has positions on axis
 * 1 holds for the graphs our exporter writes ({@code producer_name} {@link OnnxNames#PRODUCER}) and for the decoders
 * transformers exports, whose hidden states are {@code [batch, seq, hidden]} throughout (read here as: a graph fed
 * {@code input_ids} and {@code attention_mask}); the fixtures of every family served are checked against
 * transformers' own tokens with this edit made.
 */
final class EarlyPositionCut {

    private static final String PREFIX = "llmstream_cut/";
    private static final Set<String> ELEMENTWISE = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Erf", "Tanh", "Sigmoid",
            "Relu", "Sqrt", "Identity", "Cast");

    private EarlyPositionCut() {}

    /**
     * The graph with the kept positions cut before the position-wise tail, or empty when it is neither ours nor a
     * transformers decoder, keeps every position's logits, or has no such tail.
     */
    static Optional<ModelProto> apply(ModelProto proto) {
        GraphProto graph = proto.getGraph();
        GraphIndex g = new GraphIndex(graph);
        if (!OnnxNames.PRODUCER.equals(proto.getProducerName()) && !ServingGraph.isTransformersDecoder(proto, g)) {
            return Optional.empty();
        }
        int cut = indexOf(graph, ServingGraph.KEEP_SLICE);
        if (cut < 0) {
            return Optional.empty();
        }
        NodeProto slice = graph.getNode(cut);
        Set<Integer> tail = tail(g, cut);
        if (tail.isEmpty()) {
            return Optional.empty();
        }
        // Each value the tail reads from before it is cut once, right before its first reader in the tail; whatever
        // read the old cut reads the tail's own last value.
        String[] cutArguments = slice.getInputList().subList(1, 4).toArray(String[]::new);
        Map<String, String> cutValues = new HashMap<>();
        List<NodeProto> nodes = new ArrayList<>();
        int start = g.producer(cutArguments[0]); // -keep, from the graph input alone: first, so every cut can use it
        nodes.add(graph.getNode(start));
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (i == cut || i == start) {
                continue;
            }
            NodeProto n = graph.getNode(i);
            NodeProto.Builder b = n.toBuilder();
            for (int k = 0; k < n.getInputCount(); k++) {
                String in = n.getInput(k);
                if (in.equals(slice.getOutput(0))) {
                    b.setInput(k, slice.getInput(0));
                } else if (tail.contains(i) && !in.isEmpty() && !g.isFixed(in) && !tail.contains(g.producer(in))) {
                    String kept = cutValues.get(in);
                    if (kept == null) {
                        kept = PREFIX + in;
                        nodes.add(OnnxProtos.node("Slice", PREFIX + "slice/" + in,
                                List.of(in, cutArguments[0], cutArguments[1], cutArguments[2]), List.of(kept)));
                        cutValues.put(in, kept);
                    }
                    b.setInput(k, kept);
                }
            }
            nodes.add(b.build());
        }
        return Optional.of(proto.toBuilder().setGraph(graph.toBuilder().clearNode().addAllNode(nodes)).build());
    }

    /**
     * The nodes before the cut at {@code cut} that work on each position alone and whose every output is read only by
     * such nodes or by the cut: going back in graph order, each reader is decided before the node it reads from.
     */
    private static Set<Integer> tail(GraphIndex g, int cut) {
        Set<Integer> tail = new HashSet<>();
        for (int i = cut - 1; i >= 0; i--) {
            NodeProto n = g.node(i);
            if (!positionWise(n, g)) {
                continue;
            }
            boolean onlyToTheCut = true;
            boolean read = false;
            for (String out : n.getOutputList()) {
                List<Integer> readers = g.readers(out);
                read |= !readers.isEmpty();
                onlyToTheCut &= g.uses(out) == readers.size()
                        && readers.stream().allMatch(r -> r == cut || tail.contains(r));
            }
            if (read && onlyToTheCut) {
                tail.add(i);
            }
        }
        return tail;
    }

    private static boolean positionWise(NodeProto n, GraphIndex g) {
        if (!n.getDomain().isEmpty() || n.getOutputCount() != 1) {
            return false;
        }
        String op = n.getOpType();
        if (op.equals("MatMul")) {
            TensorProto w = g.initializer(n.getInput(1));
            return n.getInputCount() == 2 && w != null && w.getDimsCount() == 2 && g.initializer(n.getInput(0)) == null;
        }
        if (op.equals("LayerNormalization")) {
            return ServingGraph.isLastAxisLayerNorm(n, g);
        }
        if (op.equals("ReduceMean")) { // axes as an attribute up to opset 17, as an input from 18
            long[] axes = g.axes(n);
            return axes != null && axes.length == 1 && axes[0] == -1 && GraphIndex.intAttribute(n, "keepdims", 1) == 1
                    && !g.isFixed(n.getInput(0));
        }
        // operands computed per position, or constants (scalars, vectors) that broadcast over positions alike
        return ELEMENTWISE.contains(op) && n.getInputList().stream().allMatch(in -> {
            TensorProto t = g.fixedValue(in);
            return t == null ? !g.isFixed(in) : t.getDimsCount() <= 1;
        });
    }

    private static int indexOf(GraphProto graph, String nodeName) {
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (graph.getNode(i).getName().equals(nodeName)) {
                return i;
            }
        }
        return -1;
    }
}
