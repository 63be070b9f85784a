package io.llmstream.inference.graph;

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
 * One edit of {@link ServingGraph}: GPT-2's {@code Conv1D} layers, which torch.onnx exports as
 * {@code Reshape(x, [-1, K])}, {@code Gemm(·, W, b)} and a Reshape back to {@code x}'s leading dims with {@code N}
 * last (a dozen nodes with the shape arithmetic of both Reshapes), become {@code Add(MatMul(x, W), b)}, which
 * broadcasts over the leading dims as the pair of Reshapes did. Four such layers a block make most of a GPT-2 graph's
 * nodes.
 *
 * <p>Matched exactly: a Gemm without transposes or scaling, by a 2-D weight initializer {@code [K, N]} and a fixed 1-D bias,
 * whose input is a Reshape read by it alone and whose output is read only by a Reshape to {@code Concat(dim 0 of x,
 * dim 1 of x, ..., [N])}, each dim an {@code Unsqueeze(Gather(Shape(x), i))}.
 */
final class Conv1dAsMatMul {

    private static final String PREFIX = "llmstream_conv1d/";

    private Conv1dAsMatMul() {}

    /** The graph with every such Conv1D a MatMul and an Add, or empty when it has none. */
    static Optional<ModelProto> apply(ModelProto proto) {
        GraphProto graph = proto.getGraph();
        GraphIndex g = new GraphIndex(graph);
        Map<Integer, List<NodeProto>> replaced = new HashMap<>();
        Set<Integer> dropped = new HashSet<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto gemm = graph.getNode(i);
            if (!GraphIndex.isOp(gemm, "Gemm")) {
                continue;
            }
            int flatten = g.producer(gemm.getInput(0));
            int restore = g.onlyReader(gemm.getOutput(0));
            if (!plainGemm(g, gemm) || flatten < 0 || restore < 0 || !GraphIndex.isOp(g.node(flatten), "Reshape")
                    || g.onlyReader(g.node(flatten).getOutput(0)) != i || !GraphIndex.isOp(g.node(restore), "Reshape")) {
                continue;
            }
            String x = g.node(flatten).getInput(0);
            long width = g.initializer(gemm.getInput(1)).getDims(1);
            if (!restoresLeadingDims(g, g.node(restore).getInput(1), x, width)) {
                continue;
            }
            String product = PREFIX + gemm.getName() + "/matmul";
            replaced.put(restore, List.of(
                    OnnxProtos.node("MatMul", product, List.of(x, gemm.getInput(1)), List.of(product)),
                    OnnxProtos.node("Add", PREFIX + gemm.getName() + "/bias", List.of(product, gemm.getInput(2)),
                            List.of(g.node(restore).getOutput(0)))));
            dropped.addAll(List.of(flatten, i));
        }
        if (replaced.isEmpty()) {
            return Optional.empty();
        }
        GraphProto edited = GraphIndex.withoutUnused(g.nodesWith(replaced, dropped), graph);
        return Optional.of(proto.toBuilder().setGraph(edited).build());
    }

    /** {@code A * W + b}: no transposes, alpha and beta 1, W a 2-D initializer, b a fixed 1-D tensor of its width. */
    private static boolean plainGemm(GraphIndex g, NodeProto gemm) {
        if (gemm.getInputCount() != 3 || gemm.getOutputCount() != 1) {
            return false;
        }
        boolean plain = gemm.getAttributeList().stream().allMatch(a -> switch (a.getName()) {
            case "transA", "transB" -> a.getI() == 0;
            case "alpha", "beta" -> a.getF() == 1f;
            default -> false;
        });
        TensorProto w = g.initializer(gemm.getInput(1));
        TensorProto b = g.fixedValue(gemm.getInput(2)); // equal biases (zeros) are shared through Identity nodes
        return plain && w != null && w.getDimsCount() == 2 && b != null && b.getDimsCount() == 1
                && b.getDims(0) == w.getDims(1);
    }

    /** Whether {@code shape} is {@code Concat(dim 0 of x, ..., dim r-2 of x, [width])}. */
    private static boolean restoresLeadingDims(GraphIndex g, String shape, String x, long width) {
        int concat = g.producer(shape);
        if (concat < 0 || !GraphIndex.isOp(g.node(concat), "Concat") || g.node(concat).getInputCount() < 2) {
            return false;
        }
        List<String> parts = new ArrayList<>(g.node(concat).getInputList());
        long[] last = GraphIndex.longs(g.constant(parts.remove(parts.size() - 1)));
        if (last == null || last.length != 1 || last[0] != width) {
            return false;
        }
        for (int dim = 0; dim < parts.size(); dim++) {
            int unsqueeze = g.producer(parts.get(dim));
            int gather = unsqueeze < 0 || !GraphIndex.isOp(g.node(unsqueeze), "Unsqueeze") ? -1
                    : g.producer(g.node(unsqueeze).getInput(0));
            int shapeOf = gather < 0 || !GraphIndex.isOp(g.node(gather), "Gather") ? -1
                    : g.producer(g.node(gather).getInput(0));
            Double index = gather < 0 ? null : GraphIndex.scalar(g.constant(g.node(gather).getInput(1)));
            if (shapeOf < 0 || !GraphIndex.isOp(g.node(shapeOf), "Shape") || !g.node(shapeOf).getInput(0).equals(x)
                    || g.node(shapeOf).getAttributeCount() > 0 || index == null || index != dim) {
                return false;
            }
        }
        return true;
    }
}
