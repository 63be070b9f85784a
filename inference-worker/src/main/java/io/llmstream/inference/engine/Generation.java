package io.llmstream.inference.engine;

import io.llmstream.schemas.FinishReason;

/**
 * What a generation produced.
 *
 * @param outputIds       generated ids without the prompt and without the id that stopped it (EOS or a stop id)
 * @param text            outputIds decoded
 * @param finishReason    EOS, STOP (a stop id) or LENGTH (maxNewTokens)
 * @param promptTokens    prompt tokens fed to the model, after truncation
 * @param promptTruncated whether the prompt lost tokens on the left to fit the context with maxNewTokens
 */
public record Generation(int[] outputIds, String text, FinishReason finishReason, int promptTokens,
                         boolean promptTruncated) {

    public Generation {
        outputIds = outputIds.clone();
    }

    @Override
    public int[] outputIds() {
        return outputIds.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Generation g && java.util.Arrays.equals(outputIds, g.outputIds) && text.equals(g.text)
                && finishReason == g.finishReason && promptTokens == g.promptTokens && promptTruncated == g.promptTruncated;
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(outputIds) * 31 + finishReason.hashCode();
    }

    @Override
    public String toString() {
        return "Generation[" + java.util.Arrays.toString(outputIds) + ", " + finishReason + ", prompt " + promptTokens
                + (promptTruncated ? " (truncated)" : "") + "]";
    }
}
