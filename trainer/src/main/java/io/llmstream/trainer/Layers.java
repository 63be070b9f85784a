package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

import java.util.List;

/** The DJL pieces both decoders ({@link Gpt}, {@link Llama}) are built from. */
final class Layers {

    private Layers() {}

    /** What every sub-block shares: one-array calls, shape-preserving output, naming of its parameters. */
    abstract static class Module extends AbstractBlock {

        /** Appends this block's parameters, named under {@code prefix}, in a fixed order. */
        abstract void collect(String prefix, List<NamedParameter> out);

        NDArray call(ParameterStore ps, boolean training, NDArray... inputs) {
            return forward(ps, new NDList(inputs), training).singletonOrThrow();
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {inputShapes[0]};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            initializeChildren(this, manager, dataType, inputShapes);
        }
    }

    /** y = x W^T (+ b) with W in PyTorch's (out, in) layout; W is decayed, b is not. */
    static final class Linear extends Module {
        private final Parameter weight;
        private final Parameter bias;
        private final int out;

        /** @param withBias whether the layer adds a bias (zeros at first) */
        Linear(int in, int out, float std, boolean withBias) {
            this.out = out;
            weight = addParameter(newParameter("weight", Parameter.Type.WEIGHT, new Shape(out, in), normal(std)));
            bias = withBias ? addParameter(newParameter("bias", Parameter.Type.BIAS, new Shape(out), Initializer.ZEROS)) : null;
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.singletonOrThrow();
            NDArray w = ps.getValue(weight, x.getDevice(), training);
            if (bias == null) {
                return ai.djl.nn.core.Linear.linear(x, w);
            }
            // On rows of a 2-D view libtorch adds the bias inside the matrix product (addmm); on a 3-D input its
            // linear runs the product and then a separate add, a pass more each way.
            Shape shape = x.getShape();
            NDArray rows = x.reshape(-1, shape.get(shape.dimension() - 1));
            NDArray y = ai.djl.nn.core.Linear.linear(rows, w, ps.getValue(bias, x.getDevice(), training)).singletonOrThrow();
            return new NDList(y.reshape(shape.slice(0, shape.dimension() - 1).add(out)));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape s = inputShapes[0];
            return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
        }

        @Override
        void collect(String prefix, List<NamedParameter> out) {
            out.add(new NamedParameter(prefix + "weight", weight, true));
            if (bias != null) {
                out.add(new NamedParameter(prefix + "bias", bias, false));
            }
        }
    }

    // Parameter shapes are fixed by the config, so children need no shape inference from the input.
    static void initializeChildren(AbstractBlock block, NDManager manager, DataType dataType, Shape... inputShapes) {
        block.getChildren().values().forEach(child -> child.initialize(manager, dataType, inputShapes));
    }

    static NDArray embed(NDArray ids, ParameterStore ps, Parameter table, boolean training) {
        return rows(ps.getValue(table, ids.getDevice(), training), ids);
    }

    /** The rows of a (N, d) array at {@code index} (M), as (M, d), differentiable in the rows. */
    static NDArray rows(NDArray table, NDArray index) {
        return Embedding.embedding(index, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * {@code value} as a scalar array that lives as long as {@code like}'s manager. Use it, never {@code mul(Number)},
     * {@code div(Number)} or {@code pow(Number)}, where a gradient flows: DJL frees the scalar it makes for those right
     * after the operation while autograd keeps it for the backward pass, which then reads freed memory (gradients
     * with NaN, or silently wrong, about one training run in ten).
     */
    static NDArray scalar(NDArray like, double value) {
        return like.getManager().create((float) value);
    }

    static NDArray dropout(NDArray x, float rate, boolean training) {
        return training && rate > 0f ? Dropout.dropout(x, rate, true).singletonOrThrow() : x;
    }

    static Parameter newParameter(String name, Parameter.Type type, Shape shape, Initializer init) {
        return Parameter.builder().setName(name).setType(type).optShape(shape).optInitializer(init).build();
    }

    static Initializer normal(float std) {
        return new NormalInitializer(std);
    }
}
