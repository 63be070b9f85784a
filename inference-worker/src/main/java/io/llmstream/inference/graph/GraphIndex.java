package io.llmstream.inference.graph;

import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProto.ValueInfoProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Who writes and who reads each value of a graph, for the edits of {@link ServingGraph}. */
final class GraphIndex {

    private final GraphProto graph;
    private final Map<String, Integer> producers = new HashMap<>();
    private final Map<String, List<Integer>> readers = new HashMap<>();
    private final Map<String, TensorProto> initializers = new HashMap<>();
    private final Set<String> inputs = new HashSet<>();
    private final Set<String> outputs = new HashSet<>();

    GraphIndex(GraphProto graph) {
        this.graph = graph;
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            for (String out : n.getOutputList()) {
                producers.put(out, i);
            }
            for (String in : n.getInputList()) {
                readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
            }
        }
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        graph.getInputList().stream().map(ValueInfoProto::getName).forEach(inputs::add);
        graph.getOutputList().stream().map(ValueInfoProto::getName).forEach(outputs::add);
    }

    NodeProto node(int index) {
        return graph.getNode(index);
    }

    /** Index of the node that writes {@code value}, or -1 for a graph input, an initializer or an unknown name. */
    int producer(String value) {
        return producers.getOrDefault(value, -1);
    }

    /** Indexes of the nodes that read {@code value}, once per input it fills. */
    List<Integer> readers(String value) {
        return readers.getOrDefault(value, List.of());
    }

    /** The readers of {@code value}, the graph's outputs counted as one more. */
    int uses(String value) {
        return readers(value).size() + (outputs.contains(value) ? 1 : 0);
    }

    /** The one node reading {@code value} when nothing else (no other node, no graph output) does, else -1. */
    int onlyReader(String value) {
        List<Integer> r = readers(value);
        return r.size() == 1 && !outputs.contains(value) ? r.get(0) : -1;
    }

    TensorProto initializer(String name) {
        return initializers.get(name);
    }

    boolean isInput(String name) {
        return inputs.contains(name);
    }

    /** Whether {@code node} is the ONNX (default-domain) operator {@code opType}. */
    static boolean isOp(NodeProto node, String opType) {
        return node.getOpType().equals(opType) && node.getDomain().isEmpty();
    }

    /** The graph's nodes in their order, with {@code replacements} standing in and {@code dropped} left out. */
    List<NodeProto> nodesWith(Map<Integer, NodeProto> replacements, Set<Integer> dropped) {
        List<NodeProto> nodes = new ArrayList<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (replacements.containsKey(i)) {
                nodes.add(replacements.get(i));
            } else if (!dropped.contains(i)) {
                nodes.add(graph.getNode(i));
            }
        }
        return nodes;
    }
}
