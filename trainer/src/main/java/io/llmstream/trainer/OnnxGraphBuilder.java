package io.llmstream.trainer;

import com.google.protobuf.ByteString;
import io.llmstream.schemas.onnx.OnnxProto.AttributeProto;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProtos;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an ONNX graph one node at a time: every node gets a fresh output name, constants are shared initializers.
 * Not thread-safe; one builder per export.
 */
final class OnnxGraphBuilder {

    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    static final int BOOL = TensorProto.DataType.BOOL_VALUE;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Map<String, String> constants = new HashMap<>();
    private int nextId;

    OnnxGraphBuilder(String name) {
        graph.setName(name);
    }

    /** Declares a graph input; each dim is a Long (fixed) or a String (symbolic, e.g. "batch_size"). */
    void input(String name, int elemType, Object... dims) {
        graph.addInput(OnnxProtos.valueInfo(name, elemType, dims));
    }

    void output(String name, int elemType, Object... dims) {
        graph.addOutput(OnnxProtos.valueInfo(name, elemType, dims));
    }

    /** A float tensor stored as little-endian raw data. */
    String initializer(String name, long[] dims, float[] data) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(data);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .addAllDims(Arrays.stream(dims).boxed().toList()).setRawData(ByteString.copyFrom(bytes)));
        return name;
    }

    /** A rank-0 float constant. */
    String scalar(float value) {
        return constants.computeIfAbsent("f:" + Float.floatToIntBits(value), key -> {
            String name = "const_" + nextId++;
            graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(FLOAT).addFloatData(value));
            return name;
        });
    }

    /** A rank-0 int64 constant. */
    String scalar(long value) {
        return int64Constant("i:" + value, new long[0], value);
    }

    /** A 1-D int64 constant (shapes, axes). */
    String ints(long... values) {
        return int64Constant("v:" + Arrays.toString(values), new long[] {values.length}, values);
    }

    /** Adds a node with one output and returns the output's name. */
    String node(String opType, List<String> inputs, AttributeProto... attributes) {
        return nodeTo(opType, opType + "_" + nextId++, inputs, attributes);
    }

    /** Adds a node whose single output gets the given name (graph outputs). */
    String nodeTo(String opType, String output, List<String> inputs, AttributeProto... attributes) {
        addNode(opType, inputs, List.of(output), attributes);
        return output;
    }

    /** Adds a node with {@code outputs} outputs (Split) and returns their names. */
    List<String> node(String opType, int outputs, List<String> inputs, AttributeProto... attributes) {
        List<String> names = new ArrayList<>();
        int id = nextId++;
        for (int i = 0; i < outputs; i++) {
            names.add(opType + "_" + id + "_" + i);
        }
        addNode(opType, inputs, names, attributes);
        return names;
    }

    GraphProto build() {
        return graph.build();
    }

    static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    static AttributeProto attrInts(String name, long... values) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS)
                .addAllInts(Arrays.stream(values).boxed().toList()).build();
    }

    private void addNode(String opType, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
        graph.addNode(OnnxProtos.node(opType, outputs.get(0), inputs, outputs, attributes));
    }

    private String int64Constant(String key, long[] dims, long... values) {
        return constants.computeIfAbsent(key, k -> {
            String name = "const_" + nextId++;
            graph.addInitializer(OnnxProtos.int64Tensor(name, dims, values));
            return name;
        });
    }
}
