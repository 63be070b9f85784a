package io.llmstream.inference;

import com.google.protobuf.InvalidProtocolBufferException;
import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorShapeProto;
import io.llmstream.schemas.onnx.OnnxProto.ValueInfoProto;
import io.llmstream.schemas.onnx.OnnxProtos;

import java.util.List;
import java.util.Optional;

/**
 * The worker's variant of a decoder graph: one more input, {@link #LOGITS_TO_KEEP}, says how many of the last
 * positions get logits (0: all). Generation needs the last position only, so a prefill of P prompt tokens computes
 * one row of the output projection instead of P; with a vocabulary of 100k that projection is most of a prefill's
 * work, and its logits most of its memory. The model directory is untouched: the variant exists only in the session.
 *
 * <p>The edit: the node that writes {@code logits} must be a {@code MatMul} of the hidden states {@code [batch, seq,
 * hidden]} (ours, and Optimum's GPT-2/Llama-style exports, are); its hidden-state input is replaced by
 * {@code Slice(hidden, -keep, end, axis 1)}. Graphs of another shape, and graphs whose weights live in external data
 * files (which a session made from bytes could not find), are served as they are.
 */
final class ServingGraph {

    /** int64 [1]: logits for the last this-many positions; 0 keeps all of them. */
    static final String LOGITS_TO_KEEP = "llmstream_logits_to_keep";

    private static final String PREFIX = "llmstream_keep/";
    /** TensorProto.external_data and data_location: not in our subset of onnx.proto, so found among unknown fields. */
    private static final int EXTERNAL_DATA_FIELD = 13;
    private static final int DATA_LOCATION_FIELD = 14;
    /** Slice takes its starts, ends and axes as inputs from opset 10 on. */
    private static final long SLICE_INPUTS_OPSET = 10;
    /** The shape of the one-element vectors Slice takes. */
    private static final long[] VECTOR = {1};

    private ServingGraph() {}

    /** The variant of {@code model}, or empty when the graph is not one this edit applies to. */
    static Optional<byte[]> lastPositionsVariant(byte[] model) {
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(model);
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty(); // ONNX Runtime will say what is wrong with it
        }
        GraphProto graph = proto.getGraph();
        int head = -1;
        for (int i = 0; i < graph.getNodeCount(); i++) {
            if (graph.getNode(i).getOutputList().contains(OnnxNames.LOGITS)) {
                head = i;
            }
        }
        if (head < 0 || !isPlainMatMul(graph.getNode(head)) || usesExternalData(graph)
                || defaultOpset(proto) < SLICE_INPUTS_OPSET
                || graph.getInputList().stream().anyMatch(v -> v.getName().equals(LOGITS_TO_KEEP))) {
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
        edited.addNode(head + 1, OnnxProtos.node("Slice", PREFIX + "slice",
                List.of(hidden, start, PREFIX + "end", PREFIX + "axis"), List.of(kept)));
        for (int i = 0; i < edited.getOutputCount(); i++) {
            if (edited.getOutput(i).getName().equals(OnnxNames.LOGITS)) {
                edited.setOutput(i, keptPositions(edited.getOutput(i)));
            }
        }
        return Optional.of(proto.toBuilder().setGraph(edited).build().toByteArray());
    }

    private static boolean isPlainMatMul(NodeProto node) {
        return node.getOpType().equals("MatMul") && node.getDomain().isEmpty() && node.getInputCount() == 2;
    }

    private static long defaultOpset(ModelProto proto) {
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
