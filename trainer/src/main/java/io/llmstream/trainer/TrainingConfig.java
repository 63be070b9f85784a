package io.llmstream.trainer;

/**
 * How to train: batch shape, AdamW, the learning-rate schedule, clipping, and the evaluation and checkpoint cadence.
 * Build one with {@link #builder()}; every field has a small-model default.
 *
 * @param sequenceLength        T: windows carry T + 1 ids
 * @param batchSize             windows per micro-batch
 * @param gradientAccumulation  micro-batches summed into one optimizer step
 * @param maxSteps              optimizer steps {@link Trainer#train()} runs to
 * @param learningRate          peak learning rate, reached at the end of warm-up
 * @param minLearningRate       floor the cosine decays to
 * @param warmupSteps           linear warm-up from learningRate / warmupSteps to learningRate
 * @param decaySteps            step at which the cosine reaches minLearningRate (usually maxSteps)
 * @param weightDecay           decoupled decay, applied to weight matrices only
 * @param beta1                 AdamW first-moment decay
 * @param beta2                 AdamW second-moment decay
 * @param epsilon               AdamW denominator guard
 * @param gradientClip          maximum global L2 norm of the gradient; 0 disables clipping
 * @param evalInterval          evaluate every so many steps; 0 never
 * @param maxValidationWindows  how many VALIDATION windows to keep for evaluation (the first ones seen)
 * @param checkpointInterval    checkpoint every so many steps; 0 only at the start and the end of {@link Trainer#train()}
 * @param keepCheckpoints       how many checkpoints to keep on disk
 * @param seed                  seeds the initial weights and the dropout stream
 * @param maxRestores           consecutive non-finite steps answered by a restore before training gives up
 */
public record TrainingConfig(int sequenceLength, int batchSize, int gradientAccumulation, long maxSteps,
                             double learningRate, double minLearningRate, long warmupSteps, long decaySteps,
                             double weightDecay, double beta1, double beta2, double epsilon, double gradientClip,
                             long evalInterval, int maxValidationWindows, long checkpointInterval, int keepCheckpoints,
                             long seed, int maxRestores) {

    public TrainingConfig {
        if (sequenceLength <= 0 || batchSize <= 0 || gradientAccumulation <= 0 || maxSteps < 0) {
            throw new IllegalArgumentException("sequenceLength, batchSize and gradientAccumulation must be positive");
        }
        if (!(learningRate > 0 && Double.isFinite(learningRate)) || !(minLearningRate >= 0 && minLearningRate <= learningRate)) {
            throw new IllegalArgumentException("need 0 <= minLearningRate <= learningRate < infinity, learningRate > 0");
        }
        if (!(weightDecay >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon > 0)
                || !(gradientClip >= 0)) {
            throw new IllegalArgumentException("bad optimizer settings");
        }
        if (warmupSteps < 0 || decaySteps < 0 || evalInterval < 0 || maxValidationWindows < 0
                || checkpointInterval < 0 || keepCheckpoints < 1 || maxRestores < 0) {
            throw new IllegalArgumentException("intervals and counts must not be negative; keep at least one checkpoint");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Ids one optimizer step trains on. */
    public long tokensPerStep() {
        return (long) sequenceLength * batchSize * gradientAccumulation;
    }

    /** Learning rate for the update that completes step {@code step + 1}: linear warm-up, then cosine decay. */
    public double learningRate(long step) {
        if (step < warmupSteps) {
            return learningRate * (step + 1) / warmupSteps;
        }
        if (step >= decaySteps) {
            return minLearningRate;
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, decaySteps - warmupSteps);
        // StrictMath, as in AdamW: the same step gets the same rate before and after a resume, bit for bit
        return minLearningRate + 0.5 * (1 + StrictMath.cos(Math.PI * progress)) * (learningRate - minLearningRate);
    }

    /** Mutable builder; unless set, decaySteps follows maxSteps and minLearningRate is learningRate / 10. */
    public static final class Builder {
        private int sequenceLength = 64;
        private int batchSize = 8;
        private int gradientAccumulation = 1;
        private long maxSteps = 1000;
        private double learningRate = 1e-3;
        private Double minLearningRate;
        private long warmupSteps = 100;
        private Long decaySteps;
        private double weightDecay = 0.1;
        private double beta1 = 0.9;
        private double beta2 = 0.95;
        private double epsilon = 1e-8;
        private double gradientClip = 1.0;
        private long evalInterval = 100;
        private int maxValidationWindows = 256;
        private long checkpointInterval = 500;
        private int keepCheckpoints = 3;
        private long seed = 1337;
        private int maxRestores = 3;

        public Builder sequenceLength(int v) { sequenceLength = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder gradientAccumulation(int v) { gradientAccumulation = v; return this; }
        public Builder maxSteps(long v) { maxSteps = v; return this; }
        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder minLearningRate(double v) { minLearningRate = v; return this; }
        public Builder warmupSteps(long v) { warmupSteps = v; return this; }
        public Builder decaySteps(long v) { decaySteps = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder betas(double b1, double b2) { beta1 = b1; beta2 = b2; return this; }
        public Builder epsilon(double v) { epsilon = v; return this; }
        public Builder gradientClip(double v) { gradientClip = v; return this; }
        public Builder evalInterval(long v) { evalInterval = v; return this; }
        public Builder maxValidationWindows(int v) { maxValidationWindows = v; return this; }
        public Builder checkpointInterval(long v) { checkpointInterval = v; return this; }
        public Builder keepCheckpoints(int v) { keepCheckpoints = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder maxRestores(int v) { maxRestores = v; return this; }

        public TrainingConfig build() {
            return new TrainingConfig(sequenceLength, batchSize, gradientAccumulation, maxSteps, learningRate,
                    minLearningRate == null ? learningRate / 10 : minLearningRate, warmupSteps,
                    decaySteps == null ? maxSteps : decaySteps, weightDecay, beta1, beta2, epsilon, gradientClip,
                    evalInterval, maxValidationWindows, checkpointInterval, keepCheckpoints, seed, maxRestores);
        }
    }
}
