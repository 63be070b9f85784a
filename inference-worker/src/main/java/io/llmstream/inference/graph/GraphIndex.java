package io.llmstream.inference.graph;

import io.llmstream.schemas.onnx.OnnxProto.AttributeProto;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProto.ValueInfoProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
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
    private final Map<String, ValueInfoProto> inputs = new HashMap<>();
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
        graph.getInputList().forEach(v -> inputs.put(v.getName(), v));
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
        return inputs.containsKey(name);
    }

    /** The graph input {@code name}, or null. */
    ValueInfoProto input(String name) {
        return inputs.get(name);
    }

    /** Whether {@code node} is the ONNX (default-domain) operator {@code opType}. */
    static boolean isOp(NodeProto node, String opType) {
        return node.getOpType().equals(opType) && node.getDomain().isEmpty();
    }

    /** The graph's nodes in their order, with {@code replacements} standing in and {@code dropped} left out. */
    List<NodeProto> nodesWith(Map<Integer, List<NodeProto>> replacements, Set<Integer> dropped) {
        List<NodeProto> nodes = new ArrayList<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (replacements.containsKey(i)) {
                nodes.addAll(replacements.get(i));
            } else if (!dropped.contains(i)) {
                nodes.add(graph.getNode(i));
            }
        }
        return nodes;
    }

    /**
     * The value {@code name} holds when it is fixed: an initializer, or the output of a {@code Constant} node (what
     * torch.onnx writes for small constants); else null.
     */
    TensorProto constant(String name) {
        TensorProto t = initializers.get(name);
        if (t != null) {
            return t;
        }
        int at = producer(name);
        if (at < 0 || !isOp(graph.getNode(at), "Constant")) {
            return null;
        }
        return graph.getNode(at).getAttributeList().stream().filter(a -> a.getName().equals("value")).findFirst()
                .map(AttributeProto::getT).orElse(null);
    }

    /**
     * The tensor {@code name} holds when it is fixed: a {@link #constant}, or an {@code Identity} of one (transformers
     * exports shared weights so); else null.
     */
    TensorProto fixedValue(String name) {
        TensorProto t = constant(name);
        int at = t == null ? producer(name) : -1;
        return at >= 0 && isOp(graph.getNode(at), "Identity") ? fixedValue(graph.getNode(at).getInput(0)) : t;
    }

    /** Whether {@code name} holds a fixed value (see {@link #fixedValue}). */
    boolean isFixed(String name) {
        return fixedValue(name) != null;
    }

    /** The one number a constant holds (float or integer, in typed or raw data), or null. */
    static Double scalar(TensorProto t) {
        if (t == null || t.getDimsList().stream().reduce(1L, (a, b) -> a * b) != 1) {
            return null;
        }
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return switch (t.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> t.getFloatDataCount() == 1 ? (double) t.getFloatData(0)
                    : raw.remaining() == Float.BYTES ? (double) raw.getFloat() : null;
            case TensorProto.DataType.INT64_VALUE -> {
                long[] v = longs(t);
                yield v == null ? null : (double) v[0];
            }
            default -> null;
        };
    }

    /** The values of an int64 constant, or null. */
    static long[] longs(TensorProto t) {
        if (t == null || t.getDataType() != TensorProto.DataType.INT64_VALUE) {
            return null;
        }
        if (t.getInt64DataCount() > 0) {
            return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
        }
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        long[] v = new long[raw.remaining() / Long.BYTES];
        for (int i = 0; i < v.length; i++) {
            v[i] = raw.getLong();
        }
        return v;
    }

    /**
     * The axes of a reduction or Unsqueeze: its second input when it has one (opset 13 on for Unsqueeze, 18 for
     * ReduceMean), a constant; else its {@code axes} attribute; null when neither is known.
     */
    long[] axes(NodeProto node) {
        if (node.getInputCount() > 1) {
            return longs(constant(node.getInput(1)));
        }
        return node.getAttributeList().stream().filter(a -> a.getName().equals("axes")).findFirst()
                .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).orElse(null);
    }

    /**
     * The fill of a mask turned bias, {@code Where(visible, 0, fill)} with constant 0 and fill: the fill, or null when
     * {@code node} is not that.
     */
    Double maskFill(NodeProto node) {
        if (!isOp(node, "Where") || node.getInputCount() != 3) {
            return null;
        }
        Double visible = scalar(constant(node.getInput(1)));
        return visible != null && visible == 0 ? scalar(constant(node.getInput(2))) : null;
    }

    /** Whether {@code node} has the ints attribute {@code attribute} equal to {@code values}. */
    static boolean hasInts(NodeProto node, String attribute, long... values) {
        return node.getAttributeList().stream().anyMatch(a -> a.getName().equals(attribute)
                && a.getIntsList().equals(Arrays.stream(values).boxed().toList()));
    }

    /** The int attribute {@code attribute} of {@code node}, or {@code otherwise} when it has none. */
    static long intAttribute(NodeProto node, String attribute, long otherwise) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(attribute)).findFirst()
                .map(AttributeProto::getI).orElse(otherwise);
    }

    static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto floatAttribute(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    /**
     * {@code graph} with {@code nodes} in place of its own, less those whose outputs nothing reads (neither a graph
     * output nor a kept node), and less the initializers no kept node reads (ONNX Runtime would warn of each).
     */
    static GraphProto withoutUnused(List<NodeProto> nodes, GraphProto graph) {
        Set<String> needed = new HashSet<>();
        graph.getOutputList().forEach(o -> needed.add(o.getName()));
        boolean[] keep = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            NodeProto n = nodes.get(i);
            if (n.getOutputList().stream().anyMatch(needed::contains)) {
                keep[i] = true;
                needed.addAll(n.getInputList());
            }
        }
        GraphProto.Builder kept = graph.toBuilder().clearNode().clearInitializer();
        for (int i = 0; i < nodes.size(); i++) {
            if (keep[i]) {
                kept.addNode(nodes.get(i));
            }
        }
        graph.getInitializerList().stream().filter(t -> needed.contains(t.getName())).forEach(kept::addInitializer);
        return kept.build();
    }

    /** Whether every node of {@code graph} comes after the nodes whose outputs it reads, as ONNX requires. */
    static boolean inOrder(GraphProto graph) {
        Set<String> produced = new HashSet<>();
        graph.getNodeList().forEach(n -> produced.addAll(n.getOutputList()));
        Set<String> ready = new HashSet<>();
        for (NodeProto n : graph.getNodeList()) {
            for (String in : n.getInputList()) {
                if (produced.contains(in) && !ready.contains(in)) {
                    return false;
                }
            }
            ready.addAll(n.getOutputList());
        }
        return true;
    }
}
