package io.llmstream.inference.graph;

import io.llmstream.schemas.onnx.OnnxProto.AttributeProto;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProto.ValueInfoProto;

import ai.onnxruntime.platform.Fp16Conversions;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.Set;

/**
 * A float16 graph computed in float32, for the CPU: ONNX Runtime's CPU kernels compute most ops in float32 only, so a
 * float16 graph runs with a cast around nearly every node (2.6 times slower than the float32 graph in
 * docs/BENCHMARKS.md). Every float16 weight, constant, cast target and graph input or output becomes float32; the
 * weights keep their float16 values exactly (every float16 is a float32), so the model is the one the file holds, its
 * arithmetic now float32. The weights take twice the memory. Graphs with subgraphs (a merged decoder's If) are left as
 * they are.
 */
final class FloatWidening {
    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final int FLOAT16 = 10;
    private static final Set<String> SUBGRAPH_OPS = Set.of("If", "Loop", "Scan");

    private FloatWidening() {}

    /** The widened graph, or empty when it holds no float16 or has subgraphs. */
    static Optional<ModelProto> apply(ModelProto proto) {
        GraphProto graph = proto.getGraph();
        boolean half = graph.getInputList().stream().anyMatch(FloatWidening::isHalf)
                || graph.getOutputList().stream().anyMatch(FloatWidening::isHalf)
                || graph.getInitializerList().stream().anyMatch(t -> t.getDataType() == FLOAT16);
        if (!half || graph.getNodeList().stream().anyMatch(n -> SUBGRAPH_OPS.contains(n.getOpType()))) {
            return Optional.empty();
        }
        GraphProto.Builder edited = graph.toBuilder();
        for (int i = 0; i < edited.getInputCount(); i++) {
            edited.setInput(i, widen(edited.getInput(i)));
        }
        for (int i = 0; i < edited.getOutputCount(); i++) {
            edited.setOutput(i, widen(edited.getOutput(i)));
        }
        for (int i = 0; i < edited.getValueInfoCount(); i++) {
            edited.setValueInfo(i, widen(edited.getValueInfo(i)));
        }
        for (int i = 0; i < edited.getInitializerCount(); i++) {
            edited.setInitializer(i, widen(edited.getInitializer(i)));
        }
        for (int i = 0; i < edited.getNodeCount(); i++) {
            NodeProto node = edited.getNode(i);
            NodeProto.Builder b = node.toBuilder();
            for (int a = 0; a < b.getAttributeCount(); a++) {
                AttributeProto attribute = b.getAttribute(a);
                if (attribute.getName().equals("to") && attribute.getI() == FLOAT16 && node.getOpType().equals("Cast")) {
                    b.setAttribute(a, attribute.toBuilder().setI(FLOAT));
                } else if (attribute.hasT() && attribute.getT().getDataType() == FLOAT16) {
                    b.setAttribute(a, attribute.toBuilder().setT(widen(attribute.getT())));
                }
            }
            edited.setNode(i, b);
        }
        return Optional.of(proto.toBuilder().setGraph(edited).build());
    }

    private static boolean isHalf(ValueInfoProto v) {
        return v.getType().hasTensorType() && v.getType().getTensorType().getElemType() == FLOAT16;
    }

    private static ValueInfoProto widen(ValueInfoProto v) {
        if (!isHalf(v)) {
            return v;
        }
        ValueInfoProto.Builder b = v.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().setElemType(FLOAT);
        return b.build();
    }

    /** A float16 tensor's values as float32 (from raw_data, or int32_data where each int holds one float16). */
    private static TensorProto widen(TensorProto t) {
        if (t.getDataType() != FLOAT16) {
            return t;
        }
        int n;
        ByteBuffer raw = null;
        if (t.hasRawData()) {
            raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            n = raw.remaining() / 2;
        } else {
            n = t.getInt32DataCount();
        }
        ByteBuffer out = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            out.putFloat(Fp16Conversions.fp16ToFloat(raw != null ? raw.getShort(2 * i) : (short) t.getInt32Data(i)));
        }
        return t.toBuilder().setDataType(FLOAT).clearInt32Data().setRawData(ByteString.copyFrom(out.flip())).build();
    }
}
