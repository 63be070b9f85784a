package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.llmstream.trainer.Layers.Linear;
import io.llmstream.trainer.Layers.Module;

import java.util.ArrayList;
import java.util.List;

import static io.llmstream.trainer.Layers.dropout;
import static io.llmstream.trainer.Layers.embed;
import static io.llmstream.trainer.Layers.initializeChildren;
import static io.llmstream.trainer.Layers.normal;
import static io.llmstream.trainer.Layers.newParameter;

/**
 * A GPT-2 style decoder written as DJL blocks, in the spirit of nanoGPT's {@code model.py}: token and learned
 * position embeddings, {@code layers} pre-LayerNorm blocks of causal self-attention and a GELU feed-forward network,
 * a final LayerNorm and a projection to the vocabulary (tied to {@code wte} by default).
 *
 * <p>Weights use PyTorch's {@code nn.Linear} layout {@code (out, in)} and nanoGPT's names ({@code h.0.attn.c_attn.weight}),
 * listed by {@link #namedParameters()} for the optimizer, the checkpoints and the ONNX exporter.
 *
 * <p>The block structure is immutable once built; the weights are not (training updates them in place). Forward passes
 * may run concurrently as long as nothing trains the model at the same time.
 *
 * <p>This decoder is written three times: here, as ONNX nodes by {@link OnnxExporter}, and as the node pattern the
 * worker's {@code AttentionFusion} replaces. A change here changes all three; {@code OnnxParityTest} (this forward
 * against the exported graph) and the worker's {@code ServingGraphTest} (each fused variant against the file) fail
 * until they agree again.
 */
public final class Gpt extends AbstractBlock implements Decoder {

    /** Score of a masked position in the exported graph's attention: finite, so a row that masks every key stays free of NaN. */
    public static final float MASKED_SCORE = -Float.MAX_VALUE;

    private static final float INIT_STD = 0.02f;

    private final GptConfig config;
    private final Parameter wte;
    private final Parameter wpe;
    private final List<TransformerBlock> h = new ArrayList<>();
    private final LayerNorm lnF;
    private final Parameter lmHead;
    private final Parameter score;
    private final List<NamedParameter> namedParameters;

    /** Builds the block structure; call {@link #initialize} (or use {@link #create}) before the first forward pass. */
    public Gpt(GptConfig config) {
        this.config = config;
        int d = config.dModel();
        wte = addParameter(newParameter("wte", Parameter.Type.WEIGHT, new Shape(config.vocabSize(), d), normal(INIT_STD)));
        wpe = addParameter(newParameter("wpe", Parameter.Type.WEIGHT, new Shape(config.contextLength(), d), normal(INIT_STD)));
        // GPT-2: residual projections start smaller so the sum over 2 * layers branches keeps unit scale.
        float residualStd = INIT_STD / (float) Math.sqrt(2.0 * config.layers());
        for (int i = 0; i < config.layers(); i++) {
            h.add(addChildBlock("h" + i, new TransformerBlock(config, residualStd)));
        }
        lnF = addChildBlock("ln_f", new LayerNorm(d));
        lmHead = config.tieEmbeddings() ? null
                : addParameter(newParameter("lm_head", Parameter.Type.WEIGHT, new Shape(config.vocabSize(), d), normal(INIT_STD)));
        score = config.classLabels().isEmpty() ? null : addParameter(newParameter("score", Parameter.Type.WEIGHT,
                new Shape(config.classLabels().size(), d), normal(INIT_STD)));

        List<NamedParameter> named = new ArrayList<>();
        named.add(new NamedParameter("wte", wte, false));
        named.add(new NamedParameter("wpe", wpe, false));
        for (int i = 0; i < h.size(); i++) {
            h.get(i).collect("h." + i + ".", named);
        }
        lnF.collect("ln_f.", named);
        if (lmHead != null) {
            named.add(new NamedParameter("lm_head.weight", lmHead, true));
        }
        if (score != null) {
            named.add(new NamedParameter(CLASS_HEAD, score, true));
        }
        namedParameters = List.copyOf(named);
    }

    /** A model with fresh GPT-2 style initial weights drawn from the engine's generator seeded with {@code seed}. */
    public static Gpt create(GptConfig config, NDManager manager, long seed) {
        manager.getEngine().setRandomSeed((int) seed);
        Gpt model = new Gpt(config);
        model.initialize(manager, DataType.FLOAT32, new Shape(1, config.contextLength()));
        return model;
    }

    @Override
    public GptConfig config() {
        return config;
    }

    @Override
    public List<NamedParameter> namedParameters() {
        return namedParameters;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return outputs(ps, hiddenStates(ps, inputs.singletonOrThrow(), training), training);
    }

    @Override
    public NDArray hiddenStates(ParameterStore ps, NDArray input, boolean training) {
        NDArray ids = input.toType(DataType.INT64, false);
        long t = ids.getShape().get(1);
        if (t > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds the context length " + config.contextLength());
        }
        NDManager m = ids.getManager();
        NDArray positions = m.arange(0, (int) t, 1, DataType.INT64);
        // Activations come first in every op below, so results land in the caller's manager, never the weights'.
        NDArray x = embed(ids, ps, wte, training).add(embed(positions, ps, wpe, training));
        x = dropout(x, config.dropout(), training);
        for (TransformerBlock block : h) {
            x = block.call(ps, training, x);
        }
        return lnF.call(ps, training, x);
    }

    @Override
    public NDArray vocabularyLogits(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray head = ps.getValue(lmHead == null ? wte : lmHead, hidden.getDevice(), training);
        return ai.djl.nn.core.Linear.linear(hidden, head).singletonOrThrow();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), inputShapes[0].get(1), outputWidth())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        initializeChildren(this, manager, dataType, inputShapes);
    }

    /** Pre-LayerNorm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
    private static final class TransformerBlock extends Module {
        private final LayerNorm ln1;
        private final CausalSelfAttention attn;
        private final LayerNorm ln2;
        private final Mlp mlp;

        TransformerBlock(GptConfig config, float residualStd) {
            ln1 = addChildBlock("ln_1", new LayerNorm(config.dModel()));
            attn = addChildBlock("attn", new CausalSelfAttention(config, residualStd));
            ln2 = addChildBlock("ln_2", new LayerNorm(config.dModel()));
            mlp = addChildBlock("mlp", new Mlp(config, residualStd));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.get(0);
            x = x.add(attn.call(ps, training, ln1.call(ps, training, x)));
            x = x.add(mlp.call(ps, training, ln2.call(ps, training, x)));
            return new NDList(x);
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            ln1.collect(prefix + "ln_1.", out);
            attn.collect(prefix + "attn.", out);
            ln2.collect(prefix + "ln_2.", out);
            mlp.collect(prefix + "mlp.", out);
        }
    }

    /** Multi-head causal self-attention with one fused q/k/v projection, on x (B, T, D). */
    private static final class CausalSelfAttention extends Module {
        private final Linear cAttn;
        private final Linear cProj;
        private final int heads;
        private final int dModel;
        private final float dropout;

        CausalSelfAttention(GptConfig config, float residualStd) {
            heads = config.heads();
            dModel = config.dModel();
            dropout = config.dropout();
            cAttn = addChildBlock("c_attn", new Linear(dModel, 3 * dModel, INIT_STD, true));
            cProj = addChildBlock("c_proj", new Linear(dModel, dModel, residualStd, true));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.get(0);
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            NDList qkv = cAttn.call(ps, training, x).split(3, 2);
            NDArray q = splitHeads(qkv.get(0), b, t);
            NDArray k = splitHeads(qkv.get(1), b, t);
            NDArray v = splitHeads(qkv.get(2), b, t);
            NDArray y = Fused.causalAttention(q, k, v, dropout, training).transpose(0, 2, 1, 3).reshape(b, t, dModel);
            return new NDList(dropout(cProj.call(ps, training, y), dropout, training));
        }

        /** (B, T, D) to (B, heads, T, headDim). */
        private NDArray splitHeads(NDArray x, long b, long t) {
            return x.reshape(b, t, heads, dModel / heads).transpose(0, 2, 1, 3);
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            cAttn.collect(prefix + "c_attn.", out);
            cProj.collect(prefix + "c_proj.", out);
        }
    }

    /** Feed-forward network: c_proj(gelu(c_fc(x))), GELU in its exact erf form or its tanh approximation. */
    private static final class Mlp extends Module {
        private final Linear cFc;
        private final Linear cProj;
        private final float dropout;

        private final boolean tanhGelu;

        Mlp(GptConfig config, float residualStd) {
            dropout = config.dropout();
            tanhGelu = config.tanhGelu();
            cFc = addChildBlock("c_fc", new Linear(config.dModel(), config.dFF(), INIT_STD, true));
            cProj = addChildBlock("c_proj", new Linear(config.dFF(), config.dModel(), residualStd, true));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = cFc.call(ps, training, in.singletonOrThrow());
            NDArray hidden = tanhGelu ? tanhGelu(x) : Activation.gelu(x);
            return new NDList(dropout(cProj.call(ps, training, hidden), dropout, training));
        }

        /** 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). */
        private static NDArray tanhGelu(NDArray x) {
            NDArray inner = x.add(x.mul(x).mul(x).mul(Layers.scalar(x, 0.044715))).mul(Layers.scalar(x, Math.sqrt(2 / Math.PI)));
            return x.mul(Layers.scalar(x, 0.5)).mul(inner.tanh().add(1f));
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            cFc.collect(prefix + "c_fc.", out);
            cProj.collect(prefix + "c_proj.", out);
        }
    }

    /** LayerNorm over the last axis only (DJL's own LayerNorm block normalises several axes by default). */
    private static final class LayerNorm extends Module {
        private final Parameter weight;
        private final Parameter bias;
        private final Shape normalized;

        LayerNorm(int d) {
            normalized = new Shape(d);
            weight = addParameter(newParameter("weight", Parameter.Type.GAMMA, normalized, Initializer.ONES));
            bias = addParameter(newParameter("bias", Parameter.Type.BETA, normalized, Initializer.ZEROS));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.singletonOrThrow();
            return ai.djl.nn.norm.LayerNorm.layerNorm(x, normalized, ps.getValue(weight, x.getDevice(), training),
                    ps.getValue(bias, x.getDevice(), training), GptConfig.LAYER_NORM_EPS);
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            out.add(new NamedParameter(prefix + "weight", weight, false));
            out.add(new NamedParameter(prefix + "bias", bias, false));
        }
    }
}
