package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * Trains a {@link Decoder} ({@link Gpt} or {@link Llama}) on the windows of a {@link WindowSource}: input {@code window[0..T)}, target
 * {@code window[1..T]}, cross-entropy over the vocabulary (or, for a labelled window, over the classification head's
 * labels at the one position it flags), AdamW with decay on weight matrices only, linear warm-up then cosine decay,
 * global-norm gradient clipping, gradient accumulation.
 *
 * <p>Checkpoints (weights, AdamW state, step, the source position and the validation windows) go to the
 * {@link CheckpointStore} every {@code checkpointInterval} steps, and one is written before the first step so there is
 * always a point to return to. On start the latest checkpoint is loaded and the source sought to its position, so a
 * crashed run continues with exactly the windows it had not yet trained on. On one thread the run is reproducible: the
 * weights start from the seed, and dropout is reseeded from (seed, step) before every step.
 *
 * <p>A step whose loss or gradient is NaN or infinite is refused: nothing is applied, the last checkpoint is restored,
 * and {@link TrainingListener#onRestored} reports it. A checkpoint is never written from non-finite state.
 *
 * <p>Not thread-safe, and one per JVM: PyTorch allows one gradient recording at a time and the dropout generator is
 * global. {@link #close()} frees the native memory and writes nothing; the caller closes the source.
 */
public final class Trainer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Trainer.class);

    private final TrainingConfig config;
    private final WindowSource source;
    private final CheckpointStore store;
    private final TrainingListener listener;
    private final NDManager manager = NDManager.newBaseManager();
    private final Decoder model;
    private final AdamW optimizer;
    private final List<Window> validation = new ArrayList<>();
    private final Map<String, Double> metrics = new LinkedHashMap<>();
    private Map<String, Long> position;
    private long seed;
    private long step;
    private long lastCheckpoint = -1;
    private long lastFailedStep = -1;
    private int restoresInARow;

    /**
     * Starts from the latest checkpoint in {@code store}, or from fresh weights (then writing a step-0 checkpoint).
     *
     * @param store where checkpoints go; null for none, in which case a non-finite step ends training
     */
    public Trainer(ModelConfig modelConfig, TrainingConfig config, WindowSource source, CheckpointStore store,
                   TrainingListener listener) throws IOException {
        this(modelConfig, config, source, store, listener, InitialWeights.FRESH);
    }

    /**
     * Like the other constructor; a run without a checkpoint starts from {@code initial}'s weights (such as a
     * pretrained HuggingFace checkpoint) instead of fresh ones. A checkpoint, when there is one, wins: a resumed run
     * continues from where it stopped.
     */
    public Trainer(ModelConfig modelConfig, TrainingConfig config, WindowSource source, CheckpointStore store,
                   TrainingListener listener, InitialWeights initial) throws IOException {
        if (config.sequenceLength() > modelConfig.contextLength()) {
            throw new IllegalArgumentException("sequence length " + config.sequenceLength()
                    + " exceeds the context length " + modelConfig.contextLength());
        }
        this.config = config;
        this.source = source;
        this.store = store;
        this.listener = listener;
        this.seed = config.seed();
        this.model = modelConfig.create(manager, seed);
        this.optimizer = new AdamW(model.namedParameters(), manager, config);
        try {
            Optional<Checkpoint> latest = store == null ? Optional.empty() : store.loadLatest();
            if (latest.isPresent()) {
                restore(latest.get());
                log.info("resumed from the checkpoint of step {} at source position {}", step, position);
            } else {
                initial.fill(model);
                position = source.position();
                if (store != null) {
                    checkpoint();
                }
            }
        } catch (IOException | RuntimeException e) {
            manager.close(); // e.g. a checkpoint of another architecture: nothing to train, free the native memory
            throw e;
        }
    }

    /** The model being trained; its weights change with every step. */
    public Decoder model() {
        return model;
    }

    /** Optimizer steps completed. */
    public long step() {
        return step;
    }

    /** Latest figures: train_loss, validation_loss, validation_perplexity, validation_accuracy (whichever are known). */
    public Map<String, Double> metrics() {
        return Map.copyOf(metrics);
    }

    public TrainingConfig config() {
        return config;
    }

    /** Where a run without a checkpoint takes its first weights from. */
    @FunctionalInterface
    public interface InitialWeights {
        /** Keeps the fresh weights the model was built with. */
        InitialWeights FRESH = model -> { };

        void fill(Decoder model) throws IOException;
    }

    /** What the training loop does after each step, such as exporting a version. */
    @FunctionalInterface
    public interface StepHook {
        StepHook NONE = result -> { };

        void afterStep(StepResult result) throws IOException;
    }

    /** Runs until {@code maxSteps} or the end of the source, then checkpoints; returns the step reached. */
    public long train() throws IOException {
        return train(() -> false, StepHook.NONE);
    }

    /**
     * The training loop: steps until {@code maxSteps}, the end of the source, or {@code stop} answers true before a
     * step; calls {@code afterStep} after each one (restored steps included: see {@link StepResult#restored()}); then
     * checkpoints. Returns the step reached.
     */
    public long train(BooleanSupplier stop, StepHook afterStep) throws IOException {
        while (!stop.getAsBoolean() && step < config.maxSteps()) {
            Optional<StepResult> result = trainStep();
            if (result.isEmpty()) {
                break; // the windows ended (or the source was stopped)
            }
            afterStep.afterStep(result.get());
        }
        finish();
        return step;
    }

    /** Checkpoints the current step unless that is done already (or there is no store): the way to stop early. */
    public void finish() throws IOException {
        if (store != null && lastCheckpoint != step) {
            checkpoint();
        }
    }

    /**
     * One optimizer step over {@code batchSize * gradientAccumulation} TRAIN windows, followed by the evaluation and
     * checkpoint that fall due. Empty when the source ended before a full step's windows arrived (those are not
     * trained on, and the position stays before them).
     */
    public Optional<StepResult> trainStep() throws IOException {
        long started = System.nanoTime();
        List<Window> windows = takeTrainingWindows(config.batchSize() * config.gradientAccumulation());
        if (windows == null) {
            return Optional.empty();
        }
        double learningRate = config.learningRate(step);
        // Dropout draws from the engine's generator. Seeding it from (seed, step) makes its stream a function of the
        // step, so a checkpoint's step is all the generator state a resume needs.
        manager.getEngine().setRandomSeed(new SplittableRandom(seed + step).nextInt());
        double meanLoss = 0; // over every target the step counts
        float norm = Float.NaN;
        try {
            try (NDManager scope = manager.newSubManager();
                 GradientCollector collector = manager.getEngine().newGradientCollector()) {
                ParameterStore ps = new ParameterStore(scope, false);
                int b = config.batchSize();
                int[] counted = new int[config.gradientAccumulation()];
                long total = 0;
                for (int i = 0; i < counted.length; i++) {
                    counted[i] = countedTargets(windows.subList(i * b, (i + 1) * b));
                    total += counted[i];
                }
                for (int i = 0; i < counted.length; i++) {
                    if (counted[i] == 0) {
                        continue; // every target masked: nothing to learn from these windows
                    }
                    NDArray value = lossOf(ps, scope, windows.subList(i * b, (i + 1) * b), counted[i], true).value();
                    float v = value.getFloat();
                    if (!Float.isFinite(v)) {
                        throw new NonFinite("loss " + v, v);
                    }
                    // a micro-batch weighs by the targets it counts, so the step's loss is the mean over all of
                    // them (with equal counts the divisor is exactly the accumulation)
                    collector.backward(value.div(Layers.scalar(value, (double) total / counted[i])));
                    meanLoss += (double) v * counted[i] / total;
                }
            }
            norm = optimizer.gradientNorm();
            if (!Float.isFinite(norm)) {
                throw new NonFinite("gradient norm " + norm, meanLoss);
            }
            double clip = config.gradientClip();
            optimizer.update(learningRate, clip > 0 && norm > clip ? (float) (clip / norm) : 1f);
        } catch (NonFinite e) {
            return Optional.of(recover(step + 1, e.getMessage(), e.loss, learningRate, norm, started));
        }

        step++;
        position = source.position();
        if (step > lastFailedStep) {
            restoresInARow = 0;
        }
        metrics.put("train_loss", meanLoss);
        StepResult result = new StepResult(step, meanLoss, learningRate, norm, config.tokensPerStep(),
                (System.nanoTime() - started) / 1e9, false);
        log.debug("{}", result);
        listener.onStep(result);
        if (config.evalInterval() > 0 && step % config.evalInterval() == 0) {
            evaluate();
        }
        if (store != null && config.checkpointInterval() > 0 && step % config.checkpointInterval() == 0) {
            checkpoint();
        }
        return Optional.of(result);
    }

    /** Mean loss over the validation windows kept so far; empty while there are none. */
    public Optional<Evaluation> evaluate() {
        if (validation.isEmpty()) {
            return Optional.empty();
        }
        double total = 0;
        long targets = 0;
        int labelled = 0;
        int correct = 0;
        for (int from = 0; from < validation.size(); from += config.batchSize()) {
            List<Window> chunk = validation.subList(from, Math.min(validation.size(), from + config.batchSize()));
            int counted = countedTargets(chunk);
            try (NDManager scope = manager.newSubManager()) {
                Loss loss = lossOf(new ParameterStore(scope, false), scope, chunk, counted, false);
                total += (double) loss.value().getFloat() * counted;
                labelled += loss.labelled();
                correct += loss.correct();
            }
            targets += counted;
        }
        double mean = targets == 0 ? 0 : total / targets;
        double accuracy = labelled == 0 ? Double.NaN : (double) correct / labelled;
        Evaluation evaluation = new Evaluation(step, mean, Math.exp(mean), accuracy, validation.size());
        metrics.put("validation_loss", mean);
        metrics.put("validation_perplexity", evaluation.perplexity());
        if (labelled > 0) {
            metrics.put("validation_accuracy", accuracy);
        }
        log.info("step {}: validation loss {} (perplexity {}{}) over {} windows", step, mean, evaluation.perplexity(),
                labelled == 0 ? "" : ", accuracy " + accuracy + " of " + labelled + " labelled", validation.size());
        listener.onEvaluation(evaluation);
        return Optional.of(evaluation);
    }

    /**
     * Writes a checkpoint of the current state. If any weight or optimizer value is not finite, nothing is written:
     * the step is treated as refused and the last checkpoint restored instead (then the result is empty).
     */
    public Optional<Path> checkpoint() throws IOException {
        if (store == null) {
            throw new IllegalStateException("this trainer has no checkpoint store");
        }
        Checkpoint checkpoint = snapshot();
        String poisoned = checkpoint.firstNonFinite();
        if (poisoned != null) {
            recover(step, "non-finite values in " + poisoned, Double.NaN, Double.NaN, Float.NaN, System.nanoTime());
            return Optional.empty();
        }
        Path dir = store.save(checkpoint);
        source.checkpointed(checkpoint.positions());
        lastCheckpoint = step;
        log.info("step {}: checkpoint {}", step, dir);
        listener.onCheckpoint(step, dir);
        return Optional.of(dir);
    }

    @Override
    public void close() {
        manager.close();
    }

    private Checkpoint snapshot() {
        Map<String, Checkpoint.Tensor> weights = new LinkedHashMap<>();
        for (NamedParameter p : model.namedParameters()) {
            weights.put(p.name(), Checkpoint.Tensor.of(p.parameter().getArray()));
        }
        return new Checkpoint(step, model.config(), config, seed, position, validation, metrics, weights,
                optimizer.firstMoments(), optimizer.secondMoments());
    }

    private void restore(Checkpoint c) throws IOException {
        c.assignWeights(model);
        optimizer.restore(c.step(), c.adamM(), c.adamV());
        seed = c.seed(); // the run keeps its dropout stream even if the configured seed changed
        step = c.step();
        lastCheckpoint = c.step();
        validation.clear();
        validation.addAll(c.validation());
        metrics.clear();
        metrics.putAll(c.metrics());
        position = c.positions();
        source.seek(position);
    }

    private StepResult recover(long failedStep, String reason, double badLoss, double learningRate, float norm,
                               long started) throws IOException {
        restoresInARow++;
        lastFailedStep = Math.max(lastFailedStep, failedStep);
        String what = "step " + failedStep + " refused: " + reason;
        if (store == null) {
            throw new TrainingDivergedException(what + "; no checkpoint store to go back to");
        }
        if (restoresInARow > config.maxRestores()) {
            throw new TrainingDivergedException(what + "; still failing after " + config.maxRestores() + " restores");
        }
        Checkpoint last = store.loadLatest()
                .orElseThrow(() -> new TrainingDivergedException(what + "; no checkpoint to go back to"));
        restore(last);
        log.warn("{}; restored the checkpoint of step {}", what, last.step());
        listener.onRestored(failedStep, reason, last.step());
        return new StepResult(step, badLoss, learningRate, norm, 0, (System.nanoTime() - started) / 1e9, true);
    }

    /**
     * The next {@code n} trainable TRAIN windows; VALIDATION ones met on the way join the validation set once the
     * step's windows are complete. Null if the source ends first (then nothing is kept).
     */
    private List<Window> takeTrainingWindows(int n) throws IOException {
        List<Window> windows = new ArrayList<>(n);
        List<Window> held = new ArrayList<>();
        while (windows.size() < n) {
            Optional<Window> next = source.next();
            if (next.isEmpty()) {
                return null;
            }
            Window w = next.get();
            String problem = problemWith(w);
            if (problem != null) {
                log.warn("skipping window {}: {}", w.origin(), problem);
                listener.onRejectedWindow(w, problem);
            } else if (w.split() == Window.Split.VALIDATION) {
                held.add(w);
            } else {
                windows.add(w);
            }
        }
        validation.addAll(held.subList(0, Math.min(held.size(), config.maxValidationWindows() - validation.size())));
        return windows;
    }

    private String problemWith(Window w) {
        if (w.length() != config.sequenceLength() + 1) {
            return "has " + w.length() + " ids, expected " + (config.sequenceLength() + 1);
        }
        if (w.lossMask() != null && w.lossMask().length != config.sequenceLength()) {
            return "has a loss mask of " + w.lossMask().length + " flags, expected one per target ("
                    + config.sequenceLength() + ")";
        }
        if (w.label() != null) {
            List<String> labels = model.config().classLabels();
            if (labels.isEmpty()) {
                return "has label '" + w.label() + "' but the model has no classification head (set classify.labels)";
            }
            if (!labels.contains(w.label())) {
                return "has label '" + w.label() + "', which is not one of the head's labels " + labels;
            }
            if (w.labelPosition() < 0) {
                return "is labelled but its loss mask does not flag exactly one position for the head to read";
            }
        }
        int vocab = model.vocabSize();
        for (int id : w.tokens()) {
            if (id < 0 || id >= vocab) {
                return "id " + id + " is outside the vocabulary [0, " + vocab + ")";
            }
        }
        return null;
    }

    /**
     * Mean cross-entropy of the model over the {@code counted} targets these windows count (see {@link #countedTargets}):
     * next-token targets of language-modelling windows (all, unless a loss mask keeps only some) and the one class of
     * each labelled window, which the classification head predicts from the hidden state at the position it flags.
     * Arrays live in {@code scope}. A batch that counts no target has loss 0 and no gradient; {@code correct} is how
     * many labelled windows the head gets right (counted only when not training).
     */
    private Loss lossOf(ParameterStore ps, NDManager scope, List<Window> windows, int counted, boolean training) {
        int b = windows.size();
        int t = config.sequenceLength();
        int[] input = new int[b * t];
        int[] next = new int[b * t];
        long[] target = new long[b * t];
        int labelled = 0;
        for (int i = 0; i < b; i++) {
            Window w = windows.get(i);
            w.copyTo(0, t, input, i * t);
            w.copyTo(1, t, next, i * t);
            boolean languageModelling = w.label() == null; // a labelled window's flag marks the head's position
            labelled += languageModelling ? 0 : 1;
            for (int j = 0; j < t; j++) {
                target[i * t + j] = languageModelling && w.counts(j) ? next[i * t + j] : Fused.IGNORED;
            }
        }
        NDArray hidden = model.hiddenStates(ps, scope.create(input, new Shape(b, t)), training);
        NDArray sum = null; // of the negative log-likelihoods of the counted targets
        if (labelled < b) {
            NDArray logits = model.vocabularyLogits(ps, hidden, training).reshape(-1, model.vocabSize());
            sum = Fused.negativeLogLikelihood(logits, scope.create(target));
        }
        int correct = 0;
        if (labelled > 0) {
            long[] rows = new long[labelled];
            long[] classes = new long[labelled];
            for (int i = 0, k = 0; i < b; i++) {
                Window w = windows.get(i);
                if (w.label() != null) {
                    rows[k] = (long) i * t + w.labelPosition();
                    classes[k++] = model.config().classLabels().indexOf(w.label());
                }
            }
            NDArray read = Layers.rows(hidden.reshape(-1, model.config().dModel()), scope.create(rows));
            NDArray logits = model.classLogits(ps, read, training);
            NDArray classSum = Fused.negativeLogLikelihood(logits, scope.create(classes));
            sum = sum == null ? classSum : sum.add(classSum);
            if (!training) {
                long[] predicted = logits.argMax(1).toLongArray();
                for (int k = 0; k < labelled; k++) {
                    correct += predicted[k] == classes[k] ? 1 : 0;
                }
            }
        }
        return new Loss(sum.div(Layers.scalar(sum, Math.max(counted, 1))), labelled, correct);
    }

    /** A batch's mean loss, and of its labelled windows how many the head classifies right. */
    private record Loss(NDArray value, int labelled, int correct) {}

    /** How many targets of these windows count in the loss. */
    private int countedTargets(List<Window> windows) {
        int n = 0;
        for (Window w : windows) {
            for (int j = 0; j < config.sequenceLength(); j++) {
                n += w.counts(j) ? 1 : 0;
            }
        }
        return n;
    }

    /** Unwinds a step out of the gradient collector and its scope before the restore. */
    private static final class NonFinite extends Exception {
        private final double loss;

        NonFinite(String message, double loss) {
            super(message, null, false, false);
            this.loss = loss;
        }
    }
}
