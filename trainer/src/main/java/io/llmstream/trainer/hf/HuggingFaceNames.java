package io.llmstream.trainer.hf;

import io.llmstream.trainer.Decoder;
import io.llmstream.trainer.Gpt;

import java.util.regex.Pattern;

/**
 * Our parameter names and layouts against transformers' checkpoints. Llama-style models already carry HuggingFace's
 * names; GPT-2's live under {@code transformer.}, and its four projection matrices are Conv1D weights stored
 * (in, out), the transpose of ours.
 */
final class HuggingFaceNames {

    private static final Pattern GPT2_CONV1D = Pattern.compile("h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");

    private HuggingFaceNames() {}

    /** The checkpoint's name of {@code model}'s parameter {@code ours}. */
    static String of(Decoder model, String ours) {
        if (!(model instanceof Gpt)) {
            return ours;
        }
        return switch (ours) {
            case "wte", "wpe" -> "transformer." + ours + ".weight";
            case "lm_head.weight", Decoder.CLASS_HEAD -> ours;
            default -> "transformer." + ours;
        };
    }

    /** Whether the checkpoint stores that parameter transposed. */
    static boolean transposed(Decoder model, String ours) {
        return model instanceof Gpt && GPT2_CONV1D.matcher(ours).matches();
    }
}
