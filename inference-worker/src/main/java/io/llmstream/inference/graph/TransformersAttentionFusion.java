package io.llmstream.inference.graph;

import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.AttributeProto;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorShapeProto;
import io.llmstream.schemas.onnx.OnnxProto.ValueInfoProto;
import io.llmstream.schemas.onnx.OnnxProtos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One edit of {@link ServingGraph}, for the decoders transformers exports through torch.onnx (the Llama family:
 * Llama, Mistral, Qwen2 and their kin; and GPT-2), as Optimum and onnx-community ship them: each layer's attention,
 * from the projected q, k and v to the merged heads, is rewritten in some twenty nodes where the export has up to
 * ninety. A rotate-half rotary becomes two {@code com.microsoft.RotaryEmbedding} (q and k), and the queries are
 * grouped by the kv head they share, {@code [batch, kvHeads, groupSize * seq, headDim]}, so one batched MatMul meets the
 * cached keys and one the values as they are, instead of the cache repeated to the query heads by Expand (with the
 * shape arithmetic each of those needs). ONNX Runtime's {@code GroupQueryAttention} kernel does the same work, but was
 * slower on the CPU at every size measured (docs/BENCHMARKS.md) and takes a pass of several new tokens over a past for
 * one row only.
 *
 * <p>What stays exact: the rotary angles are the graph's own (its cos and sin, {@code [batch, seq, headDim]}, flattened
 * into a per-pass table the rotary nodes index by row and position); the additive mask the graph built is added to the
 * scores as before, so left padding, padding between past and new tokens and the positions mean what they meant; the
 * NaN guard after the Softmax stays where the export had one and its mask could be -inf.
 *
 * <p>The pattern is matched from the cache outputs back to the projections and forward to the merged heads, and every
 * layer must match with the same rotary tables, else the graph is left as it is (a partial rotary that turns only
 * part of each head, for one; Phi-3's split of a whole head is matched).
 */
final class TransformersAttentionFusion {

    private static final String PREFIX = "llmstream_gqa/";
    private static final String POSITIONS = PREFIX + "row_positions";
    private static final String COS = PREFIX + "cos_table";
    private static final String SIN = PREFIX + "sin_table";
    /** Size, Range, Slice with inputs and Softmax over the last axis alone: ONNX opset 13 has them all as used here. */
    private static final long MIN_OPSET = 13;

    private TransformersAttentionFusion() {}

    /** The graph with every layer's attention fused, or empty when a layer does not match. */
    static Optional<ModelProto> apply(ModelProto proto) {
        GraphProto graph = proto.getGraph();
        GraphIndex g = new GraphIndex(graph);
        if (!ServingGraph.isTransformersDecoder(proto, g) || ServingGraph.defaultOpset(proto) < MIN_OPSET) {
            return Optional.empty();
        }
        List<Layer> layers = new ArrayList<>();
        for (int layer = 0; g.isInput(OnnxNames.pastKey(layer)); layer++) {
            Layer matched = match(g, layer);
            if (matched == null || !layers.isEmpty() && (!Objects.equals(matched.cos, layers.get(0).cos)
                    || !Objects.equals(matched.sin, layers.get(0).sin))) {
                return Optional.empty();
            }
            layers.add(matched);
        }
        if (layers.isEmpty()) {
            return Optional.empty();
        }
        Map<Integer, List<NodeProto>> fusedAt = new HashMap<>();
        Set<Integer> dropped = new HashSet<>();
        List<TensorProto> constants = new ArrayList<>();
        for (Layer layer : layers) {
            List<NodeProto> nodes = new ArrayList<>();
            if (fusedAt.isEmpty() && layer.cos != null) {
                nodes.addAll(passTables(layer, constants));
            }
            nodes.addAll(fused(layer, constants));
            fusedAt.put(layer.at, nodes);
            dropped.addAll(layer.replaced);
        }
        GraphProto edited = GraphIndex.withoutUnused(g.nodesWith(fusedAt, dropped), graph).toBuilder()
                .addAllInitializer(constants).build();
        if (!GraphIndex.inOrder(edited)) {
            return Optional.empty(); // something kept reads a present before the fused node now writing it
        }
        return Optional.of(ServingGraph.withMicrosoftOps(proto.toBuilder().setGraph(edited).build()));
    }

    /**
     * One layer's match: the projected q, k, v ({@code [batch, seq, heads * headDim]}), the shared rotary cos and
     * sin ({@code [batch, seq, headDim]}), the additive mask, the merged output, where the fused nodes go and what
     * they replace.
     */
    private record Layer(int index, String q, String k, String v, String cos, String sin, String mask, String output,
                         long heads, long kvHeads, long headDim, float scale, boolean nanGuard, int at,
                         Set<Integer> replaced) {}

    private static Layer match(GraphIndex g, int layer) {
        long[] cacheShape = fixedDims(g, OnnxNames.pastKey(layer));
        int keyCache = cacheConcat(g, OnnxNames.pastKey(layer), OnnxNames.presentKey(layer));
        int valueCache = cacheConcat(g, OnnxNames.pastValue(layer), OnnxNames.presentValue(layer));
        if (cacheShape == null || keyCache < 0 || valueCache < 0) {
            return null;
        }
        long kvHeads = cacheShape[1];
        long headDim = cacheShape[3];
        Set<Integer> replaced = new HashSet<>(List.of(keyCache, valueCache));
        Rotary k = rotaryOrPlain(g, g.node(keyCache).getInput(1), headDim, replaced);
        String v = splitHeads(g, g.node(valueCache).getInput(1), replaced);
        if (k == null || v == null) {
            return null;
        }
        String kHeads = repeated(g, OnnxNames.presentKey(layer));
        String vHeads = repeated(g, OnnxNames.presentValue(layer));
        // keys transposed, optionally scaled, times the optionally scaled queries
        int keysT = nonShapeReader(g, kHeads);
        if (kHeads == null || vHeads == null || keysT < 0 || !GraphIndex.isOp(g.node(keysT), "Transpose")
                || !GraphIndex.hasInts(g.node(keysT), "perm", 0, 1, 3, 2)) {
            return null;
        }
        double scale = 1;
        String keyTerm = g.node(keysT).getOutput(0);
        int keyScale = scaling(g, g.onlyReader(keyTerm), keyTerm);
        if (keyScale >= 0) {
            scale *= scalarOf(g, g.node(keyScale), keyTerm);
            replaced.add(keyScale);
            keyTerm = g.node(keyScale).getOutput(0);
        }
        int scores = g.onlyReader(keyTerm);
        if (scores < 0 || !GraphIndex.isOp(g.node(scores), "MatMul") || !g.node(scores).getInput(1).equals(keyTerm)) {
            return null;
        }
        String queryTerm = g.node(scores).getInput(0);
        int queryScale = scaling(g, g.producer(queryTerm), null);
        String qRotated = queryTerm;
        if (queryScale >= 0) {
            NodeProto n = g.node(queryScale);
            qRotated = g.constant(n.getInput(1)) != null ? n.getInput(0) : n.getInput(1);
            scale *= scalarOf(g, n, qRotated);
            replaced.add(queryScale);
        }
        Rotary q = rotaryOrPlain(g, qRotated, headDim, replaced);
        // scores optionally scaled, plus the mask, Softmax, optionally NaN-guarded, times the values
        String scored = g.node(scores).getOutput(0);
        int scoreScale = scaling(g, g.onlyReader(scored), scored);
        if (scoreScale >= 0) {
            NodeProto n = g.node(scoreScale);
            double c = scalarOf(g, n, scored);
            scale *= GraphIndex.isOp(n, "Div") ? 1 / c : c;
            replaced.add(scoreScale);
            scored = n.getOutput(0);
        }
        int masked = g.onlyReader(scored);
        if (q == null || !Objects.equals(q.cos, k.cos) || !Objects.equals(q.sin, k.sin) || masked < 0
                || !GraphIndex.isOp(g.node(masked), "Add") || g.node(masked).getInputCount() != 2) {
            return null;
        }
        NodeProto add = g.node(masked);
        String mask = add.getInput(0).equals(scored) ? add.getInput(1) : add.getInput(0);
        int softmax = g.onlyReader(add.getOutput(0));
        if (softmax < 0 || !GraphIndex.isOp(g.node(softmax), "Softmax") || !lastAxis(g.node(softmax))) {
            return null;
        }
        String softmaxOut = g.node(softmax).getOutput(0);
        String probabilities = nanGuarded(g, softmaxOut, replaced);
        int weighted = g.onlyReader(probabilities);
        if (weighted < 0 || !GraphIndex.isOp(g.node(weighted), "MatMul")
                || !g.node(weighted).getInput(1).equals(vHeads)) {
            return null;
        }
        int merged = nonShapeReader(g, g.node(weighted).getOutput(0));
        int output = merged < 0 ? -1 : nonShapeReader(g, g.node(merged).getOutput(0));
        if (output < 0 || !GraphIndex.isOp(g.node(merged), "Transpose")
                || !GraphIndex.hasInts(g.node(merged), "perm", 0, 2, 1, 3) || !GraphIndex.isOp(g.node(output), "Reshape")) {
            return null;
        }
        // without a repeat the query heads are the kv heads (one kv head could also broadcast: asked of the weights)
        long heads = kHeads.equals(OnnxNames.presentKey(layer)) && kvHeads > 1 ? kvHeads
                : queryHeads(g, g.node(output).getOutput(0), q.input, headDim);
        if (heads <= 0 || heads % kvHeads != 0) {
            return null;
        }
        replaced.addAll(List.of(keysT, scores, masked, softmax, weighted, merged, output));
        return new Layer(layer, q.input, k.input, v, q.cos, q.sin, mask, g.node(output).getOutput(0), heads, kvHeads,
                headDim, (float) scale, !probabilities.equals(softmaxOut) && !finiteBias(g, mask), output, replaced);
    }

    /**
     * The nodes of one layer: rotary on q and k, the new keys and values split into heads and appended to the cache
     * (the presents), the queries grouped by kv head and scaled, scores against the cached keys viewed per query head
     * for the mask and the Softmax, then grouped again for the values, and the heads merged.
     */
    private static List<NodeProto> fused(Layer l, List<TensorProto> constants) {
        String p = PREFIX + l.index + "/";
        constants.add(OnnxProtos.int64Tensor(p + "kv_heads_shape", new long[] {4}, 0, 0, l.kvHeads, l.headDim));
        constants.add(OnnxProtos.int64Tensor(p + "q_heads_shape", new long[] {4}, 0, 0, l.heads, l.headDim));
        constants.add(OnnxProtos.int64Tensor(p + "grouped_shape", new long[] {4}, 0, l.kvHeads, -1, l.headDim));
        constants.add(OnnxProtos.int64Tensor(p + "scores_shape", new long[] {4}, 0, l.heads, -1, 0));
        constants.add(OnnxProtos.int64Tensor(p + "grouped_scores_shape", new long[] {4}, 0, l.kvHeads, -1, 0));
        constants.add(OnnxProtos.int64Tensor(p + "heads_shape", new long[] {4}, 0, l.heads, -1, l.headDim));
        constants.add(OnnxProtos.int64Tensor(p + "merged_shape", new long[] {3}, 0, 0, l.heads * l.headDim));
        constants.add(TensorProto.newBuilder().setName(p + "scale").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addFloatData(l.scale).build());
        List<NodeProto> nodes = new ArrayList<>();
        String q = l.q;
        String k = l.k;
        if (l.cos != null) {
            nodes.add(rotaryNode(p + "q_rotary", l.q, p + "q"));
            nodes.add(rotaryNode(p + "k_rotary", l.k, p + "k"));
            q = p + "q";
            k = p + "k";
        }
        nodes.addAll(List.of(
                node("Reshape", p + "k_heads", k, p + "kv_heads_shape"),
                transpose(p + "k_new", p + "k_heads", 0, 2, 1, 3),
                concat(OnnxNames.presentKey(l.index), OnnxNames.pastKey(l.index), p + "k_new"),
                node("Reshape", p + "v_heads", l.v, p + "kv_heads_shape"),
                transpose(p + "v_new", p + "v_heads", 0, 2, 1, 3),
                concat(OnnxNames.presentValue(l.index), OnnxNames.pastValue(l.index), p + "v_new"),
                node("Reshape", p + "q_heads", q, p + "q_heads_shape"),
                transpose(p + "q_by_head", p + "q_heads", 0, 2, 1, 3),
                node("Reshape", p + "q_grouped", p + "q_by_head", p + "grouped_shape"),
                node("Mul", p + "q_scaled", p + "q_grouped", p + "scale"),
                transpose(p + "keys_t", OnnxNames.presentKey(l.index), 0, 1, 3, 2),
                node("MatMul", p + "grouped_scores", p + "q_scaled", p + "keys_t"),
                node("Reshape", p + "scores", p + "grouped_scores", p + "scores_shape"),
                node("Add", p + "masked", p + "scores", l.mask),
                OnnxProtos.node("Softmax", p + "softmax", List.of(p + "masked"), List.of(p + "probabilities"),
                        GraphIndex.intAttribute("axis", -1))));
        String probabilities = p + "probabilities";
        if (l.nanGuard) { // rows that mask every key (padding) would be NaN with a -inf mask, and 0 * NaN spreads
            constants.add(TensorProto.newBuilder().setName(p + "zero").setDataType(TensorProto.DataType.FLOAT_VALUE)
                    .addFloatData(0f).build());
            nodes.add(node("IsNaN", p + "nan", probabilities));
            nodes.add(node("Where", p + "guarded", p + "nan", p + "zero", probabilities));
            probabilities = p + "guarded";
        }
        nodes.addAll(List.of(
                node("Reshape", p + "grouped_probabilities", probabilities, p + "grouped_scores_shape"),
                node("MatMul", p + "grouped_output", p + "grouped_probabilities", OnnxNames.presentValue(l.index)),
                node("Reshape", p + "output_heads", p + "grouped_output", p + "heads_shape"),
                transpose(p + "output_by_position", p + "output_heads", 0, 2, 1, 3),
                OnnxProtos.node("Reshape", p + "merged", List.of(p + "output_by_position", p + "merged_shape"),
                        List.of(l.output))));
        return nodes;
    }

    /** A node whose one output is named after it. */
    private static NodeProto node(String op, String name, String... inputs) {
        return OnnxProtos.node(op, name, List.of(inputs), List.of(name));
    }

    private static NodeProto transpose(String name, String input, long... perm) {
        return OnnxProtos.node("Transpose", name, List.of(input), List.of(name), AttributeProto.newBuilder()
                .setName("perm").setType(AttributeProto.AttributeType.INTS)
                .addAllInts(java.util.Arrays.stream(perm).boxed().toList()).build());
    }

    private static NodeProto concat(String output, String past, String added) {
        return OnnxProtos.node("Concat", output + "/concat", List.of(past, added), List.of(output),
                GraphIndex.intAttribute("axis", 2));
    }

    private static NodeProto rotaryNode(String name, String input, String output) {
        return OnnxProtos.node("RotaryEmbedding", name, List.of(input, POSITIONS, COS, SIN), List.of(output))
                .toBuilder().setDomain(ServingGraph.MS_DOMAIN).build();
    }

    /**
     * What every layer's rotary nodes read, computed once a pass: the first halves of the graph's cos and sin as
     * tables of {@code batch * seq} rows, and each token's row index into them ({@code [batch, seq]}).
     */
    private static List<NodeProto> passTables(Layer l, List<TensorProto> constants) {
        String p = PREFIX;
        constants.add(OnnxProtos.int64Tensor(p + "zero_vector", new long[] {1}, 0));
        constants.add(OnnxProtos.int64Tensor(p + "half", new long[] {1}, l.headDim / 2));
        constants.add(OnnxProtos.int64Tensor(p + "last_axis", new long[] {1}, 2));
        constants.add(OnnxProtos.int64Tensor(p + "table_shape", new long[] {2}, -1, l.headDim / 2));
        constants.add(OnnxProtos.int64Tensor(p + "zero", new long[] {}, 0));
        constants.add(OnnxProtos.int64Tensor(p + "one", new long[] {}, 1));
        return List.of(
                OnnxProtos.node("Slice", p + "cos_half", List.of(l.cos, p + "zero_vector", p + "half", p + "last_axis"),
                        List.of(p + "cos_half")),
                OnnxProtos.node("Reshape", p + "cos_table", List.of(p + "cos_half", p + "table_shape"), List.of(COS)),
                OnnxProtos.node("Slice", p + "sin_half", List.of(l.sin, p + "zero_vector", p + "half", p + "last_axis"),
                        List.of(p + "sin_half")),
                OnnxProtos.node("Reshape", p + "sin_table", List.of(p + "sin_half", p + "table_shape"), List.of(SIN)),
                OnnxProtos.node("Size", p + "tokens", List.of(OnnxNames.INPUT_IDS), List.of(p + "tokens")),
                OnnxProtos.node("Range", p + "token_index", List.of(p + "zero", p + "tokens", p + "one"),
                        List.of(p + "token_index")),
                OnnxProtos.node("Shape", p + "ids_shape", List.of(OnnxNames.INPUT_IDS), List.of(p + "ids_shape")),
                OnnxProtos.node("Reshape", p + "row_positions", List.of(p + "token_index", p + "ids_shape"),
                        List.of(POSITIONS)));
    }

    /**
     * {@code x * cos + rotate_half(x) * sin} over heads split off {@code input}, with the cos and sin it reads; or, with
     * both null, the heads split off {@code input} as they are (GPT-2 has no rotary).
     */
    private record Rotary(String input, String cos, String sin) {}

    private static Rotary rotaryOrPlain(GraphIndex g, String value, long headDim, Set<Integer> replaced) {
        Rotary rotary = rotary(g, value, headDim, replaced, false);
        if (rotary == null) {
            rotary = fullPartialRotary(g, value, headDim, replaced);
        }
        if (rotary != null) {
            return rotary;
        }
        String plain = splitHeads(g, value, replaced);
        return plain == null ? null : new Rotary(plain, null, null);
    }

    /**
     * Matches the rotary written as {@code Add(Mul(x, Unsqueeze(cos, 1)), Mul(Concat(Neg(Slice(x, half, end)),
     * Slice(x, 0, half)), Unsqueeze(sin, 1)))} on heads {@code x} split off a projection; null when it is not that.
     */
    /**
     * Phi-3's spelling: {@code Concat(rotary(Slice(x, 0, r)), Slice(x, r, end))} on the last axis, rotating the first
     * {@code r} of each head; matched only when {@code r} is the whole head (partial_rotary_factor 1), read from the
     * inverse frequencies the graph's cos is made of, so the rotation is the plain one.
     */
    private static Rotary fullPartialRotary(GraphIndex g, String value, long headDim, Set<Integer> replaced) {
        int concat = g.producer(value);
        if (concat < 0 || !GraphIndex.isOp(g.node(concat), "Concat") || g.node(concat).getInputCount() != 2
                || !lastAxisOf4(GraphIndex.intAttribute(g.node(concat), "axis", 0))) {
            return null;
        }
        int pass = g.producer(g.node(concat).getInput(1));
        if (pass < 0 || !GraphIndex.isOp(g.node(pass), "Slice")) {
            return null;
        }
        Rotary rotary = rotary(g, g.node(concat).getInput(0), headDim, replaced, true);
        return rotary != null && rotaryWidth(g, rotary.cos) == headDim ? rotary : null;
    }

    /**
     * The rotated width of a transformers rotary cos {@code [batch, seq, r]}: twice the length of the inverse
     * frequencies {@code [1, r / 2, 1]} it is computed from ({@code Cos(Concat(f, f))} of {@code f = Transpose(
     * MatMul(Expand(inv_freq), positions))}, maybe scaled and cast); -1 when it is not made so.
     */
    private static long rotaryWidth(GraphIndex g, String cos) {
        String value = cos;
        for (int step = 0; step < 12; step++) {
            TensorProto fixed = g.fixedValue(value);
            if (fixed != null) {
                return fixed.getDimsCount() == 3 && fixed.getDims(0) == 1 && fixed.getDims(2) == 1
                        ? 2 * fixed.getDims(1) : -1;
            }
            int at = g.producer(value);
            if (at < 0) {
                return -1;
            }
            NodeProto n = g.node(at);
            switch (n.getOpType()) {
                case "Cast", "Cos", "Sin", "Transpose", "Expand", "MatMul" -> value = n.getInput(0);
                case "Mul" -> value = g.isFixed(n.getInput(1)) ? n.getInput(0) : n.getInput(1);
                case "Concat" -> {
                    if (n.getInputCount() != 2 || !n.getInput(0).equals(n.getInput(1))) {
                        return -1;
                    }
                    value = n.getInput(0);
                }
                default -> {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static Rotary rotary(GraphIndex g, String value, long headDim, Set<Integer> replaced, boolean sliced) {
        int sum = g.producer(value);
        if (sum < 0 || !GraphIndex.isOp(g.node(sum), "Add") || g.node(sum).getInputCount() != 2) {
            return null;
        }
        int[] products = {g.producer(g.node(sum).getInput(0)), g.producer(g.node(sum).getInput(1))};
        for (int side = 0; side < 2; side++) {
            int cosProduct = products[side];
            int sinProduct = products[1 - side];
            if (cosProduct < 0 || sinProduct < 0 || !GraphIndex.isOp(g.node(cosProduct), "Mul")
                    || !GraphIndex.isOp(g.node(sinProduct), "Mul")) {
                return null;
            }
            for (int order = 0; order < 2; order++) {
                String heads = g.node(cosProduct).getInput(order);
                String cos = unsqueezedOnAxis1(g, g.node(cosProduct).getInput(1 - order));
                for (int sinOrder = 0; sinOrder < 2; sinOrder++) {
                    String sin = unsqueezedOnAxis1(g, g.node(sinProduct).getInput(1 - sinOrder));
                    int halves = rotatedHalves(g, g.node(sinProduct).getInput(sinOrder), heads, headDim);
                    String input = cos == null || sin == null || halves < 0 ? null
                            : splitHeads(g, sliced ? sliceFromZero(g, heads) : heads, replaced);
                    if (input != null) {
                        replaced.addAll(List.of(sum, cosProduct, sinProduct));
                        return new Rotary(input, cos, sin);
                    }
                }
            }
        }
        return null;
    }

    /** The Concat of {@code Neg(Slice(x, half, end))} and {@code Slice(x, 0, half)} on the last axis, or -1. */
    private static int rotatedHalves(GraphIndex g, String value, String heads, long headDim) {
        int concat = g.producer(value);
        if (concat < 0 || !GraphIndex.isOp(g.node(concat), "Concat") || g.node(concat).getInputCount() != 2
                || !lastAxisOf4(GraphIndex.intAttribute(g.node(concat), "axis", 0))) {
            return -1;
        }
        int neg = g.producer(g.node(concat).getInput(0));
        if (neg < 0 || !GraphIndex.isOp(g.node(neg), "Neg")) {
            return -1;
        }
        int second = g.producer(g.node(neg).getInput(0));
        int first = g.producer(g.node(concat).getInput(1));
        boolean ok = isHalf(g, second, heads, false, headDim) && isHalf(g, first, heads, true, headDim);
        return ok ? concat : -1;
    }

    /**
     * A Slice of {@code heads} on the last axis from 0 (first half) or to the end (second half). The middle is
     * computed from the shape in these exports, so it is taken to be half the head, as rotate-half has it.
     */
    private static boolean isHalf(GraphIndex g, int slice, String heads, boolean first, long headDim) {
        if (slice < 0 || !GraphIndex.isOp(g.node(slice), "Slice") || g.node(slice).getInputCount() < 4
                || !g.node(slice).getInput(0).equals(heads)) {
            return false;
        }
        NodeProto n = g.node(slice);
        long[] axes = GraphIndex.longs(g.constant(n.getInput(3)));
        long[] bound = GraphIndex.longs(g.constant(n.getInput(first ? 1 : 2)));
        boolean unitSteps = n.getInputCount() < 5 || n.getInput(4).isEmpty()
                || java.util.Arrays.equals(GraphIndex.longs(g.constant(n.getInput(4))), new long[] {1});
        return axes != null && axes.length == 1 && lastAxisOf4(axes[0]) && bound != null && bound.length == 1
                && (first ? bound[0] == 0 : bound[0] >= headDim) && unitSteps;
    }

    /** The value {@code Slice(value, 0, ..., last axis)} was cut from, or null. */
    private static String sliceFromZero(GraphIndex g, String sliced) {
        int at = g.producer(sliced);
        if (at < 0 || !GraphIndex.isOp(g.node(at), "Slice") || g.node(at).getInputCount() < 4) {
            return null;
        }
        NodeProto n = g.node(at);
        long[] start = GraphIndex.longs(g.constant(n.getInput(1)));
        long[] axes = GraphIndex.longs(g.constant(n.getInput(3)));
        return start != null && start.length == 1 && start[0] == 0 && axes != null && axes.length == 1
                && lastAxisOf4(axes[0]) ? n.getInput(0) : null;
    }

    /** The value {@code Unsqueeze(value, axis 1)} was made of, or null. */
    private static String unsqueezedOnAxis1(GraphIndex g, String value) {
        int at = g.producer(value);
        return at >= 0 && unsqueezedOnAxis(g, g.node(at), 1) ? g.node(at).getInput(0) : null;
    }

    /**
     * The projection {@code [batch, seq, heads * headDim]} that {@code Transpose(Reshape(projection), 0 2 1 3)}
     * splits into heads {@code value}, or null; the two nodes join {@code replaced}.
     */
    private static String splitHeads(GraphIndex g, String value, Set<Integer> replaced) {
        int transpose = g.producer(value);
        if (transpose < 0 || !GraphIndex.isOp(g.node(transpose), "Transpose")
                || !GraphIndex.hasInts(g.node(transpose), "perm", 0, 2, 1, 3)) {
            return null;
        }
        int reshape = g.producer(g.node(transpose).getInput(0));
        if (reshape < 0 || !GraphIndex.isOp(g.node(reshape), "Reshape")) {
            return null;
        }
        replaced.addAll(List.of(transpose, reshape));
        return g.node(reshape).getInput(0);
    }

    /**
     * {@code present} as attention reads it: itself, or its kv heads repeated to the query heads by
     * {@code Reshape(Expand(Unsqueeze(present, 2)))} (what transformers' repeat_kv exports as); null otherwise. The
     * Shape nodes that size the repeat are not followed: they fall out of use with it.
     */
    private static String repeated(GraphIndex g, String present) {
        int first = nonShapeReader(g, present);
        if (first < 0 || !GraphIndex.isOp(g.node(first), "Unsqueeze")) {
            return first < 0 ? null : present;
        }
        int expand = g.onlyReader(g.node(first).getOutput(0));
        int reshape = expand < 0 ? -1 : g.onlyReader(g.node(expand).getOutput(0));
        boolean ok = expand >= 0 && GraphIndex.isOp(g.node(expand), "Expand")
                && g.node(expand).getInput(0).equals(g.node(first).getOutput(0))
                && reshape >= 0 && GraphIndex.isOp(g.node(reshape), "Reshape")
                && g.node(reshape).getInput(0).equals(g.node(expand).getOutput(0))
                && unsqueezedOnAxis(g, g.node(first), 2);
        return ok ? g.node(reshape).getOutput(0) : null;
    }

    private static boolean unsqueezedOnAxis(GraphIndex g, NodeProto unsqueeze, long axis) {
        long[] axes = GraphIndex.isOp(unsqueeze, "Unsqueeze") ? g.axes(unsqueeze) : null;
        return axes != null && axes.length == 1 && axes[0] == axis;
    }

    /** The one reader of {@code value} other than Shape nodes (which only size things), or -1. */
    private static int nonShapeReader(GraphIndex g, String value) {
        if (value == null) {
            return -1;
        }
        int found = -1;
        for (int reader : g.readers(value)) {
            if (!GraphIndex.isOp(g.node(reader), "Shape")) {
                if (found >= 0) {
                    return -1;
                }
                found = reader;
            }
        }
        return found;
    }

    /** Node {@code at} when it is a Mul (or, on scores, a Div) by a scalar constant, else -1. */
    private static int scaling(GraphIndex g, int at, String value) {
        if (at < 0) {
            return -1;
        }
        NodeProto n = g.node(at);
        boolean mul = GraphIndex.isOp(n, "Mul");
        boolean div = GraphIndex.isOp(n, "Div") && value != null && n.getInput(0).equals(value);
        if (!(mul || div) || n.getInputCount() != 2) {
            return -1;
        }
        String other = value == null ? null : n.getInput(0).equals(value) ? n.getInput(1) : n.getInput(0);
        if (other == null) {
            boolean constantSecond = GraphIndex.scalar(g.constant(n.getInput(1))) != null;
            boolean constantFirst = GraphIndex.scalar(g.constant(n.getInput(0))) != null;
            return mul && (constantFirst != constantSecond) ? at : -1;
        }
        return GraphIndex.scalar(g.constant(other)) != null ? at : -1;
    }

    /** The scalar constant {@code node} multiplies or divides {@code value} by. */
    private static double scalarOf(GraphIndex g, NodeProto node, String value) {
        String other = node.getInput(0).equals(value) ? node.getInput(1) : node.getInput(0);
        return GraphIndex.scalar(g.constant(other));
    }

    /**
     * {@code Where(IsNaN(p), constant, p)} over the probabilities (transformers guards rows that mask every key),
     * whose nodes join {@code replaced}; else {@code probabilities} itself.
     */
    private static String nanGuarded(GraphIndex g, String probabilities, Set<Integer> replaced) {
        List<Integer> readers = g.readers(probabilities);
        if (readers.size() != 2) {
            return probabilities;
        }
        int isNan = GraphIndex.isOp(g.node(readers.get(0)), "IsNaN") ? readers.get(0) : readers.get(1);
        int where = isNan == readers.get(0) ? readers.get(1) : readers.get(0);
        NodeProto w = g.node(where);
        if (!GraphIndex.isOp(g.node(isNan), "IsNaN") || !GraphIndex.isOp(w, "Where") || w.getInputCount() != 3
                || !w.getInput(0).equals(g.node(isNan).getOutput(0)) || !w.getInput(2).equals(probabilities)
                || g.constant(w.getInput(1)) == null) {
            return probabilities;
        }
        replaced.addAll(List.of(isNan, where));
        return w.getOutput(0);
    }

    /**
     * Whether the mask is {@code Where(visible, 0, m)} with {@code m} finite: then a row that masks every key gets even
     * weights, not NaN, and needs no guard.
     */
    private static boolean finiteBias(GraphIndex g, String mask) {
        int where = g.producer(mask);
        Double fill = where < 0 ? null : g.maskFill(g.node(where));
        return fill != null && Double.isFinite(fill);
    }

    /**
     * The query heads, from the width of a projection's weights: the output projection reading the merged heads
     * (maybe through the cut to the kept positions), a MatMul by {@code [heads * headDim, hidden]} or a 4-bit
     * {@code MatMulNBits} of input width {@code K}; else the q projection, a MatMul by {@code [hidden, heads * headDim]}
     * maybe plus a bias, or a {@code MatMulNBits} of output width {@code N}.
     */
    private static long queryHeads(GraphIndex g, String merged, String q, long headDim) {
        int reader = g.onlyReader(merged);
        if (reader >= 0 && GraphIndex.isOp(g.node(reader), "Slice")) {
            reader = g.onlyReader(g.node(reader).getOutput(0));
        }
        long width = reader < 0 ? -1 : weightWidth(g, g.node(reader), true);
        if (width < 0) {
            int projection = g.producer(q);
            if (projection >= 0 && GraphIndex.isOp(g.node(projection), "Add")) {
                NodeProto bias = g.node(projection);
                projection = g.producer(g.isFixed(bias.getInput(0)) ? bias.getInput(1) : bias.getInput(0));
            }
            width = projection < 0 ? -1 : weightWidth(g, g.node(projection), false);
        }
        return width > 0 && width % headDim == 0 ? width / headDim : -1;
    }

    /** The input ({@code in}) or output width of a projection by a weight initializer, plain or 4-bit, or -1. */
    private static long weightWidth(GraphIndex g, NodeProto n, boolean in) {
        if (GraphIndex.isOp(n, "MatMul") && n.getInputCount() == 2) {
            TensorProto w = g.initializer(n.getInput(1));
            return w != null && w.getDimsCount() == 2 ? w.getDims(in ? 0 : 1) : -1;
        }
        if (n.getOpType().equals("MatMulNBits") && n.getDomain().equals(ServingGraph.MS_DOMAIN)) {
            return GraphIndex.intAttribute(n, in ? "K" : "N", -1);
        }
        return -1;
    }

    /** The node writing {@code present} as Concat(past, new heads) on the slot axis (past maybe passed through a one-input Concat), or -1. */
    private static int cacheConcat(GraphIndex g, String past, String present) {
        int at = g.producer(present);
        if (at < 0) {
            return -1;
        }
        NodeProto n = g.node(at);
        long axis = GraphIndex.intAttribute(n, "axis", 0);
        if (!GraphIndex.isOp(n, "Concat") || n.getInputCount() != 2 || !(axis == 2 || axis == -2)) {
            return -1;
        }
        String first = n.getInput(0);
        int through = g.producer(first);
        boolean identity = through >= 0 && GraphIndex.isOp(g.node(through), "Concat")
                && g.node(through).getInputCount() == 1 && g.node(through).getInput(0).equals(past);
        return first.equals(past) || identity ? at : -1;
    }

    /** The fixed sizes of dims 1..3 of a 4-D graph input ({@code [batch, kvHeads, past, headDim]}), or null. */
    private static long[] fixedDims(GraphIndex g, String input) {
        ValueInfoProto info = g.input(input);
        if (info == null || info.getType().getTensorType().getElemType() != TensorProto.DataType.FLOAT_VALUE) {
            return null;
        }
        List<TensorShapeProto.Dimension> dims = info.getType().getTensorType().getShape().getDimList();
        if (dims.size() != 4 || !dims.get(1).hasDimValue() || !dims.get(3).hasDimValue()
                || dims.get(3).getDimValue() % 2 != 0) {
            return null;
        }
        return new long[] {-1, dims.get(1).getDimValue(), -1, dims.get(3).getDimValue()};
    }

    private static boolean lastAxis(NodeProto softmax) {
        return lastAxisOf4(GraphIndex.intAttribute(softmax, "axis", -1));
    }

    private static boolean lastAxisOf4(long axis) {
        return axis == -1 || axis == 3;
    }
}
