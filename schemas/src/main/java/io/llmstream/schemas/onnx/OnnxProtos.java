package io.llmstream.schemas.onnx;

import io.llmstream.schemas.onnx.OnnxProto.AttributeProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorShapeProto;
import io.llmstream.schemas.onnx.OnnxProto.TypeProto;
import io.llmstream.schemas.onnx.OnnxProto.ValueInfoProto;

import java.util.Arrays;
import java.util.List;

/** The ONNX pieces both the trainer's exporter and the worker's graph edit make. */
public final class OnnxProtos {

    private OnnxProtos() {}

    /** A tensor's name, element type and shape; each dim is a Number (fixed) or a String (symbolic, e.g. "batch_size"). */
    public static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object dim : dims) {
            TensorShapeProto.Dimension.Builder d = TensorShapeProto.Dimension.newBuilder();
            if (dim instanceof String param) {
                d.setDimParam(param);
            } else {
                d.setDimValue(((Number) dim).longValue());
            }
            shape.addDim(d);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    /** An int64 initializer of shape {@code dims}. */
    public static TensorProto int64Tensor(String name, long[] dims, long... values) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addAllDims(Arrays.stream(dims).boxed().toList())
                .addAllInt64Data(Arrays.stream(values).boxed().toList()).build();
    }

    /** A node of the default domain. */
    public static NodeProto node(String opType, String name, List<String> inputs, List<String> outputs,
                                 AttributeProto... attributes) {
        return NodeProto.newBuilder().setOpType(opType).setName(name).addAllInput(inputs).addAllOutput(outputs)
                .addAllAttribute(List.of(attributes)).build();
    }
}
