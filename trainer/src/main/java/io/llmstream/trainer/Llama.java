package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.llmstream.trainer.Layers.Linear;
import io.llmstream.trainer.Layers.Module;

import java.util.ArrayList;
import java.util.List;

import static io.llmstream.trainer.Layers.embed;
import static io.llmstream.trainer.Layers.initializeChildren;
import static io.llmstream.trainer.Layers.normal;
import static io.llmstream.trainer.Layers.newParameter;

/**
 * A Llama-style decoder as DJL blocks: token embeddings, {@code layers} pre-RMSNorm blocks of causal self-attention with
 * rotary position embeddings and grouped-query heads, and a SwiGLU feed-forward network; a final RMSNorm and a
 * projection to the vocabulary (tied to the embeddings or not). Qwen2 is the same with biases on q, k and v.
 *
 * <p>Parameters carry HuggingFace's names and layouts ({@code model.layers.0.self_attn.q_proj.weight}, (out, in)), so
 * a {@code LlamaForCausalLM} / {@code Qwen2ForCausalLM} checkpoint loads tensor for tensor and saves back the same way.
 * The arithmetic follows transformers' modeling code: RMSNorm in float32 then scaled by its weight, the rotary pair of
 * channels {@code (i, i + headDim/2)} ("rotate half"), key/value head {@code h / (heads / kvHeads)} for query head
 * {@code h}, scores scaled by {@code 1/sqrt(headDim)}.
 */
public final class Llama extends AbstractBlock implements Decoder {

    private static final float INIT_STD = 0.02f;

    private final LlamaConfig config;
    private final Parameter embedTokens;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final RmsNorm norm;
    private final Parameter lmHead;
    private final Parameter score;
    private final List<NamedParameter> namedParameters;
    /** The rotary frequencies theta^(-2i/headDim), i < headDim/2, computed in float32 as transformers does. */
    private final float[] inverseFrequencies;

    /** Builds the block structure; call {@link #initialize} (or use {@link #create}) before the first forward pass. */
    public Llama(LlamaConfig config) {
        this.config = config;
        int d = config.dModel();
        embedTokens = addParameter(newParameter("embed_tokens", Parameter.Type.WEIGHT, new Shape(config.vocabSize(), d),
                normal(INIT_STD)));
        float residualStd = INIT_STD / (float) Math.sqrt(2.0 * config.layers());
        for (int i = 0; i < config.layers(); i++) {
            layers.add(addChildBlock("layer" + i, new DecoderLayer(config, residualStd)));
        }
        norm = addChildBlock("norm", new RmsNorm(d, config.rmsNormEps()));
        lmHead = config.tieEmbeddings() ? null
                : addParameter(newParameter("lm_head", Parameter.Type.WEIGHT, new Shape(config.vocabSize(), d), normal(INIT_STD)));
        score = config.classLabels().isEmpty() ? null : addParameter(newParameter("score", Parameter.Type.WEIGHT,
                new Shape(config.classLabels().size(), d), normal(INIT_STD)));

        List<NamedParameter> named = new ArrayList<>();
        named.add(new NamedParameter("model.embed_tokens.weight", embedTokens, false));
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).collect("model.layers." + i + ".", named);
        }
        norm.collect("model.norm.", named);
        if (lmHead != null) {
            named.add(new NamedParameter("lm_head.weight", lmHead, true));
        }
        if (score != null) {
            named.add(new NamedParameter(CLASS_HEAD, score, true));
        }
        namedParameters = List.copyOf(named);

        inverseFrequencies = new float[config.headDim() / 2];
        for (int i = 0; i < inverseFrequencies.length; i++) {
            inverseFrequencies[i] = (float) (1.0 / Math.pow(config.ropeTheta(), (float) (2 * i) / config.headDim()));
        }
    }

    /** A model with fresh initial weights drawn from the engine's generator seeded with {@code seed}. */
    public static Llama create(LlamaConfig config, NDManager manager, long seed) {
        manager.getEngine().setRandomSeed((int) seed);
        Llama model = new Llama(config);
        model.initialize(manager, DataType.FLOAT32, new Shape(1, config.contextLength()));
        return model;
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    /**
     * cos and sin of the rotary angles of every position below the context length, each (contextLength, headDim)
     * row-major: the tables the exported graph looks positions up in, computed as the forward pass computes them.
     */
    float[][] rotaryTables() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList tables = rotary(m, config.contextLength());
            return new float[][] {tables.get(0).toFloatArray(), tables.get(1).toFloatArray()};
        }
    }

    /**
     * cos and sin, (t, headDim), of position times frequency, the frequencies repeated for the two halves; float32
     * products and the engine's cos and sin, as transformers computes them.
     */
    private NDList rotary(NDManager m, int t) {
        NDArray positions = m.arange(0, t, 1, DataType.FLOAT32).reshape(t, 1);
        NDArray angles = positions.mul(m.create(inverseFrequencies).reshape(1, inverseFrequencies.length));
        angles = angles.concat(angles, 1);
        return new NDList(angles.cos(), angles.sin());
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
        int t = (int) ids.getShape().get(1);
        if (t > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds the context length " + config.contextLength());
        }
        NDManager m = ids.getManager();
        NDList rotary = rotary(m, t);
        NDArray x = embed(ids, ps, embedTokens, training);
        for (DecoderLayer layer : layers) {
            x = layer.call(ps, training, x, rotary.get(0), rotary.get(1));
        }
        return norm.call(ps, training, x);
    }

    @Override
    public NDArray vocabularyLogits(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray head = ps.getValue(lmHead == null ? embedTokens : lmHead, hidden.getDevice(), training);
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

    /** x + attn(norm(x)), then x + mlp(norm(x)). Inputs: x, the (T, T) mask, cos and sin (T, headDim). */
    private static final class DecoderLayer extends Module {
        private final RmsNorm inputNorm;
        private final Attention attn;
        private final RmsNorm postAttentionNorm;
        private final Mlp mlp;

        DecoderLayer(LlamaConfig config, float residualStd) {
            inputNorm = addChildBlock("input_layernorm", new RmsNorm(config.dModel(), config.rmsNormEps()));
            attn = addChildBlock("self_attn", new Attention(config, residualStd));
            postAttentionNorm = addChildBlock("post_attention_layernorm", new RmsNorm(config.dModel(), config.rmsNormEps()));
            mlp = addChildBlock("mlp", new Mlp(config, residualStd));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.get(0);
            x = x.add(attn.call(ps, training, inputNorm.call(ps, training, x), in.get(1), in.get(2)));
            x = x.add(mlp.call(ps, training, postAttentionNorm.call(ps, training, x)));
            return new NDList(x);
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            inputNorm.collect(prefix + "input_layernorm.", out);
            attn.collect(prefix + "self_attn.", out);
            postAttentionNorm.collect(prefix + "post_attention_layernorm.", out);
            mlp.collect(prefix + "mlp.", out);
        }
    }

    /** Causal self-attention with rotary positions on q and k and kvHeads key/value heads shared by groups of queries. */
    private static final class Attention extends Module {
        private final Linear qProj;
        private final Linear kProj;
        private final Linear vProj;
        private final Linear oProj;
        private final int heads;
        private final int kvHeads;
        private final int headDim;

        Attention(LlamaConfig config, float residualStd) {
            heads = config.heads();
            kvHeads = config.kvHeads();
            headDim = config.headDim();
            int d = config.dModel();
            qProj = addChildBlock("q_proj", new Linear(d, heads * headDim, INIT_STD, config.qkvBias()));
            kProj = addChildBlock("k_proj", new Linear(d, kvHeads * headDim, INIT_STD, config.qkvBias()));
            vProj = addChildBlock("v_proj", new Linear(d, kvHeads * headDim, INIT_STD, config.qkvBias()));
            oProj = addChildBlock("o_proj", new Linear(heads * headDim, d, residualStd, false));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.get(0);
            NDArray cos = in.get(1);
            NDArray sin = in.get(2);
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            NDArray q = rotate(splitHeads(qProj.call(ps, training, x), b, t, heads), cos, sin);
            NDArray k = repeatKv(rotate(splitHeads(kProj.call(ps, training, x), b, t, kvHeads), cos, sin));
            NDArray v = repeatKv(splitHeads(vProj.call(ps, training, x), b, t, kvHeads));
            NDArray y = Fused.causalAttention(q, k, v, 0f, training).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * headDim);
            return new NDList(oProj.call(ps, training, y));
        }

        /** (B, T, n * headDim) to (B, n, T, headDim). */
        private NDArray splitHeads(NDArray x, long b, long t, int n) {
            return x.reshape(b, t, n, headDim).transpose(0, 2, 1, 3);
        }

        /** x cos + rotateHalf(x) sin, rotateHalf(x) = (-x[half:], x[:half]) on the last axis. */
        private NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
            NDList halves = x.split(2, 3);
            NDArray rotated = halves.get(1).neg().concat(halves.get(0), -1);
            return x.mul(cos).add(rotated.mul(sin));
        }

        /** (B, kvHeads, T, headDim) to (B, heads, T, headDim): each key/value head serves heads / kvHeads queries. */
        private NDArray repeatKv(NDArray x) {
            return heads == kvHeads ? x : x.repeat(1, heads / kvHeads);
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            qProj.collect(prefix + "q_proj.", out);
            kProj.collect(prefix + "k_proj.", out);
            vProj.collect(prefix + "v_proj.", out);
            oProj.collect(prefix + "o_proj.", out);
        }
    }

    /** down(silu(gate(x)) * up(x)). */
    private static final class Mlp extends Module {
        private final Linear gateProj;
        private final Linear upProj;
        private final Linear downProj;

        Mlp(LlamaConfig config, float residualStd) {
            gateProj = addChildBlock("gate_proj", new Linear(config.dModel(), config.dFF(), INIT_STD, false));
            upProj = addChildBlock("up_proj", new Linear(config.dModel(), config.dFF(), INIT_STD, false));
            downProj = addChildBlock("down_proj", new Linear(config.dFF(), config.dModel(), residualStd, false));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.singletonOrThrow();
            NDArray gate = gateProj.call(ps, training, x);
            NDArray hidden = Fused.silu(gate).mul(upProj.call(ps, training, x));
            return new NDList(downProj.call(ps, training, hidden));
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            gateProj.collect(prefix + "gate_proj.", out);
            upProj.collect(prefix + "up_proj.", out);
            downProj.collect(prefix + "down_proj.", out);
        }
    }

    /** weight * x / sqrt(mean(x^2) + eps) over the last axis (adding a scalar is safe: its backward needs no value). */
    private static final class RmsNorm extends Module {
        private final Parameter weight;
        private final float eps;

        RmsNorm(int d, float eps) {
            this.eps = eps;
            weight = addParameter(newParameter("weight", Parameter.Type.GAMMA, new Shape(d), Initializer.ONES));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.singletonOrThrow();
            NDArray normalized = x.div(x.square().mean(new int[] {-1}, true).add(eps).sqrt());
            return new NDList(normalized.mul(ps.getValue(weight, x.getDevice(), training)));
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            out.add(new NamedParameter(prefix + "weight", weight, false));
        }
    }
}
