package io.llmstream.inference.model;

import io.llmstream.inference.graph.ServingGraph;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.llmstream.schemas.model.OnnxNames;

import java.util.Map;

/**
 * What the worker needs to know about a decoder graph, read from the ONNX session itself rather than trusted from a
 * config file: the number of layers (count of {@code past_key_values.{i}.key} inputs), the cache's head count and head
 * size, the vocabulary size (the last dimension of {@code logits}) and whether the graph takes {@code position_ids}.
 *
 * @param layers      decoder layers, each with a key and a value cache
 * @param kvHeads     heads of the key/value cache (fewer than the query heads with grouped-query attention)
 * @param headDim     size of one head
 * @param vocabSize   logits per position
 * @param positionIds whether the graph takes {@code position_ids}; without them a left-padded row would get shifted
 *                    positions, so such models batch rows of one length only (see {@code BatchLimits#equalLengths})
 * @param logitsToKeep the graph's input that asks for the logits of the last positions only: {@link
 *                    ServingGraph#LOGITS_TO_KEEP} (int64 [1], the worker's edit) or an export's own {@link
 *                    OnnxNames#NUM_LOGITS_TO_KEEP} (int64 scalar); null when it has none
 * @param logitsToKeepRank that input's rank, 0 or 1
 * @param cachePrecision  the element type of the past and present tensors
 * @param logitsPrecision the element type of the logits
 * @param cacheBranch     whether the graph is a legacy merged decoder with a {@code use_cache_branch} input; it is
 *                        always fed true: the with-past branch on a zero-length past is the first pass too
 * @param rowsCoupled     whether a row's result depends on the other rows of its batch (dynamically quantized int8
 *                        graphs scale activations per tensor); such graphs run one row at a time, so that every
 *                        result is the one the request gets alone
 */
public record ModelSignature(int layers, int kvHeads, int headDim, int vocabSize, boolean positionIds,
                             String logitsToKeep, int logitsToKeepRank, Precision cachePrecision,
                             Precision logitsPrecision, boolean cacheBranch, boolean rowsCoupled) {

    /** Whether a pass can ask for the logits of its last positions only. */
    public boolean keepsLogits() {
        return logitsToKeep != null;
    }

    /** Values a config file may supply for dimensions the graph leaves symbolic; 0 where unknown. */
    record Hints(int kvHeads, int headDim, int vocabSize) {}

    static ModelSignature read(OrtSession session, Hints hints, boolean rowsCoupled) throws OrtException {
        Map<String, NodeInfo> inputs = session.getInputInfo();
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        boolean cacheBranch = inputs.containsKey(OnnxNames.USE_CACHE_BRANCH);
        if (cacheBranch) {
            requireTensor(inputs, OnnxNames.USE_CACHE_BRANCH, OnnxJavaType.BOOL, "input");
        }
        requireTensor(inputs, OnnxNames.INPUT_IDS, OnnxJavaType.INT64, "input");
        requireTensor(inputs, OnnxNames.ATTENTION_MASK, OnnxJavaType.INT64, "input");
        boolean positionIds = inputs.containsKey(OnnxNames.POSITION_IDS);
        if (positionIds) {
            requireTensor(inputs, OnnxNames.POSITION_IDS, OnnxJavaType.INT64, "input");
        }
        TensorInfo logits = requireTensor(outputs, OnnxNames.LOGITS, null, "output");

        int layers = 0;
        while (inputs.containsKey(OnnxNames.pastKey(layers))) {
            layers++;
        }
        if (layers == 0) {
            throw new ModelLoadException("the graph has no KV-cache inputs (" + OnnxNames.pastKey(0)
                    + "); export the decoder with past key values");
        }
        TensorInfo key = requireTensor(inputs, OnnxNames.pastKey(0), null, "input");
        Precision cachePrecision = precision(key, OnnxNames.pastKey(0));
        Precision logitsPrecision = precision(logits, OnnxNames.LOGITS);
        for (int i = 0; i < layers; i++) {
            requireTensor(inputs, OnnxNames.pastValue(i), key.type, "input");
            requireTensor(outputs, OnnxNames.presentKey(i), key.type, "output");
            requireTensor(outputs, OnnxNames.presentValue(i), key.type, "output");
        }
        long[] cache = key.getShape();
        long[] logitShape = logits.getShape();
        if (cache.length != 4 || logitShape.length != 3) {
            throw new ModelLoadException("unexpected ranks: " + OnnxNames.pastKey(0) + " " + key
                    + ", logits " + logits + " (expected [batch, heads, past, headDim] and [batch, seq, vocab])");
        }
        int kvHeads = dimension(cache[1], hints.kvHeads(), "KV heads");
        int headDim = dimension(cache[3], hints.headDim(), "head size");
        int vocab = dimension(logitShape[2], hints.vocabSize(), "vocabulary size");
        String keep = null;
        int keepRank = 0;
        for (String name : new String[] {ServingGraph.LOGITS_TO_KEEP, OnnxNames.NUM_LOGITS_TO_KEEP}) {
            if (inputs.containsKey(name)) {
                keep = name;
                keepRank = requireTensor(inputs, name, OnnxJavaType.INT64, "input").getShape().length;
                if (keepRank > 1) {
                    throw new ModelLoadException("input '" + name + "' has rank " + keepRank + ", expected a scalar or [1]");
                }
                break;
            }
        }
        return new ModelSignature(layers, kvHeads, headDim, vocab, positionIds, keep, keepRank, cachePrecision,
                logitsPrecision, cacheBranch, rowsCoupled);
    }

    private static Precision precision(TensorInfo tensor, String name) {
        Precision p = Precision.of(tensor.type);
        if (p == null) {
            throw new ModelLoadException("'" + name + "' is " + tensor.type
                    + "; this worker serves float32, float16 and bfloat16 caches and logits");
        }
        return p;
    }

    private static TensorInfo requireTensor(Map<String, NodeInfo> nodes, String name, OnnxJavaType type, String kind) {
        NodeInfo node = nodes.get(name);
        if (node == null) {
            throw new ModelLoadException("the graph has no " + kind + " '" + name + "' (it has " + nodes.keySet()
                    + "); expected HuggingFace Optimum's decoder-with-past names");
        }
        if (!(node.getInfo() instanceof TensorInfo info)) {
            throw new ModelLoadException(kind + " '" + name + "' is not a tensor: " + node.getInfo());
        }
        if (type != null && info.type != type) {
            throw new ModelLoadException(kind + " '" + name + "' is " + info.type + ", expected " + type);
        }
        return info;
    }

    private static int dimension(long fromGraph, int hint, String what) {
        if (fromGraph > 0) {
            if (hint > 0 && hint != fromGraph) {
                throw new ModelLoadException("the graph's " + what + " is " + fromGraph + " but the model's config says "
                        + hint);
            }
            return Math.toIntExact(fromGraph);
        }
        if (hint > 0) {
            return hint;
        }
        throw new ModelLoadException("the graph leaves the " + what + " symbolic and no config file states it");
    }
}
