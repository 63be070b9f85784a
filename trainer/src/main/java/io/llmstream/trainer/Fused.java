package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;

/**
 * Operators libtorch runs as one kernel forward and backward where DJL's API offers only their pieces, reached through
 * {@link TorchScriptModule}s compiled on first use and kept for the process. At the tiny trained shapes each takes a
 * third to two thirds less time, forward and backward, than the same arithmetic as separate DJL operators
 * (docs/BENCHMARKS.md, Trainer).
 */
final class Fused {

    private Fused() {}

    /** The target a position carries when it does not count in {@link #negativeLogLikelihood}. */
    static final long IGNORED = -100;

    /**
     * Causal scaled dot-product attention, softmax(q k^T / sqrt(headDim) + causal mask) v, over q, k and v of
     * (B, heads, T, headDim); {@code dropout} applies to the attention weights while training.
     */
    static NDArray causalAttention(NDArray q, NDArray k, NDArray v, float dropout, boolean training) {
        return Modules.ATTENTION.apply(q, k, v, Layers.scalar(q, training ? dropout : 0f));
    }

    /**
     * Sum over rows of -log softmax(logits)[target] for logits (N, C) and int64 targets (N); a row whose target is
     * {@link #IGNORED} adds nothing.
     */
    static NDArray negativeLogLikelihood(NDArray logits, NDArray targets) {
        return Modules.NEGATIVE_LOG_LIKELIHOOD.apply(logits, targets);
    }

    /** x sigmoid(x). */
    static NDArray silu(NDArray x) {
        return Modules.SILU.apply(x);
    }

    /** Compiled when first used (a class's constants load with the class). */
    private static final class Modules {
        static final TorchScriptModule ATTENTION = new TorchScriptModule("CausalAttention",
                "q: Tensor, k: Tensor, v: Tensor, dropout: Tensor",
                "return torch.scaled_dot_product_attention(q, k, v, None, float(dropout), True)");
        // nll_loss's reduction 2 is a sum
        static final TorchScriptModule NEGATIVE_LOG_LIKELIHOOD = new TorchScriptModule("NegativeLogLikelihood",
                "logits: Tensor, targets: Tensor",
                "return torch.nll_loss(torch.log_softmax(logits, 1), targets, None, 2, " + IGNORED + ")");
        static final TorchScriptModule SILU = new TorchScriptModule("Silu", "x: Tensor", "return torch.silu(x)");
    }
}
