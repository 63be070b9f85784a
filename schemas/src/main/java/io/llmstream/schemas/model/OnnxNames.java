package io.llmstream.schemas.model;

/**
 * Input and output names of an ONNX decoder with a KV cache, as HuggingFace Optimum exports them; the trainer writes
 * these and the inference worker feeds them, so either side can be swapped for an Optimum export.
 * <pre>
 *   input_ids      int64 [batch, seq]           attention_mask  int64 [batch, past + seq]  (1 = token, 0 = padding)
 *   position_ids   int64 [batch, seq]           past_key_values.{i}.key|value  float [batch, kvHeads, past, headDim]
 *   -> logits      float [batch, seq, vocab]    present.{i}.key|value          float [batch, kvHeads, past + seq, headDim]
 * </pre>
 */
public final class OnnxNames {

    public static final String INPUT_IDS = "input_ids";
    public static final String ATTENTION_MASK = "attention_mask";
    public static final String POSITION_IDS = "position_ids";
    public static final String LOGITS = "logits";
    /**
     * The {@code producer_name} of the graphs the trainer exports: the worker reads what their attention mask means from
     * that exporter, not from the graph, so it fuses the attention of these graphs only.
     */
    public static final String PRODUCER = "llmstream";
    /** Only in legacy merged Optimum exports: a bool [1] choosing the with-past branch. */
    public static final String USE_CACHE_BRANCH = "use_cache_branch";
    /** In some onnx-community exports: an int64 scalar, logits for the last this-many positions (0: all of them). */
    public static final String NUM_LOGITS_TO_KEEP = "num_logits_to_keep";

    /** Per-layer name templates with onnxruntime-genai's {@code %d} layer placeholder (genai_config.json uses them as is). */
    public static final String PAST_KEY = "past_key_values.%d.key";
    public static final String PAST_VALUE = "past_key_values.%d.value";
    public static final String PRESENT_KEY = "present.%d.key";
    public static final String PRESENT_VALUE = "present.%d.value";

    private OnnxNames() {}

    public static String pastKey(int layer) {
        return layer(PAST_KEY, layer);
    }

    public static String pastValue(int layer) {
        return layer(PAST_VALUE, layer);
    }

    public static String presentKey(int layer) {
        return layer(PRESENT_KEY, layer);
    }

    public static String presentValue(int layer) {
        return layer(PRESENT_VALUE, layer);
    }

    /** One of the templates above filled in for a layer. */
    public static String layer(String template, int layer) {
        return String.format(template, layer);
    }
}
