package io.llmstream.trainer;

import io.llmstream.ops.Settings;
import io.llmstream.schemas.model.ModelFiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The trainer's settings, read once from {@link Settings} (defaults in {@code trainer.properties}) and checked at
 * start, with errors naming the key.
 *
 * @param tokenizer     built-in encoding name or tokenizer.json path
 * @param bos           special-token strings looked up in the tokenizer for the manifest (-1 where absent)
 * @param model         the decoder's architecture and shape except the vocabulary size, which comes from the tokenizer
 * @param initFrom      a HuggingFace model directory whose architecture, weights and tokenizer a run without a
 *                      checkpoint starts from (then {@code model} and {@code tokenizer} are not used); null for none
 * @param exportInterval steps between model versions; 0 exports only at the end
 * @param registry      every setting; the schema-registry client picks its keys (schema.registry.url, ...)
 */
public record TrainerSettings(
        String tokenizer,
        String bos,
        String eos,
        String pad,
        String modelName,
        ModelShape model,
        List<String> classLabels,
        Path initFrom,
        TrainingConfig training,
        Path checkpointDir,
        Path modelsRoot,
        long exportInterval,
        String windowsTopic,
        String modelsTopic,
        String deadLettersTopic,
        Duration idleTimeout,
        boolean repeatWindowsFile,
        int opsPort,
        Map<String, Object> kafka,
        Map<String, String> registry) {

    public static final String DEFAULTS_RESOURCE = "/trainer.properties";

    /**
     * A {@link ModelConfig} without the vocabulary size: {@code type} {@value GptConfig#TYPE} or {@value
     * LlamaConfig#TYPE}; dropout is GPT-2's only, kvHeads, ropeTheta, rmsNormEps and qkvBias Llama's only.
     */
    public record ModelShape(String type, int contextLength, int layers, int heads, int kvHeads, int dModel, int dFF,
                             float dropout, double ropeTheta, float rmsNormEps, boolean qkvBias, boolean tieEmbeddings) {
        public ModelConfig withVocabulary(int vocabSize) {
            return switch (type) {
                case GptConfig.TYPE -> new GptConfig(vocabSize, contextLength, layers, heads, dModel, dFF, dropout,
                        tieEmbeddings);
                case LlamaConfig.TYPE -> new LlamaConfig(vocabSize, contextLength, layers, heads, kvHeads, dModel, dFF,
                        ropeTheta, rmsNormEps, qkvBias, tieEmbeddings);
                default -> throw new IllegalStateException("unknown model.type " + type); // from() checked it
            };
        }
    }

    private static List<String> classLabels(Settings s) {
        try {
            return ModelConfig.checkLabels(s.list("classify.labels"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("setting 'classify.labels': " + e.getMessage(), e);
        }
    }

    public static Map<String, String> defaults() {
        return Settings.resourceDefaults(TrainerSettings.class, DEFAULTS_RESOURCE);
    }

    public static TrainerSettings from(Settings s) {
        int heads = s.integer("model.heads");
        ModelShape shape = new ModelShape(
                s.string("model.type"),
                s.integer("model.context.length"),
                s.integer("model.layers"),
                heads,
                s.has("model.kv.heads") ? s.integer("model.kv.heads") : heads,
                s.integer("model.d.model"),
                s.integer("model.d.ff"),
                (float) s.decimal("model.dropout"),
                s.decimal("model.rope.theta"),
                (float) s.decimal("model.rms.norm.eps"),
                s.bool("model.qkv.bias"),
                s.bool("model.tie.embeddings"));
        if (!shape.type().equals(GptConfig.TYPE) && !shape.type().equals(LlamaConfig.TYPE)) {
            throw new IllegalArgumentException("setting 'model.type' must be " + GptConfig.TYPE + " or "
                    + LlamaConfig.TYPE + ", not '" + shape.type() + "'");
        }
        Path initFrom = s.has("init.from") ? Path.of(s.string("init.from")) : null;
        if (initFrom != null && !Files.isRegularFile(initFrom.resolve(ModelFiles.HF_CONFIG))) {
            throw new IllegalArgumentException("setting 'init.from': " + initFrom + " has no " + ModelFiles.HF_CONFIG
                    + " (a HuggingFace model directory: config.json, model.safetensors, tokenizer.json)");
        }
        TrainingConfig.Builder training = TrainingConfig.builder()
                .sequenceLength(s.integer("train.sequence.length"))
                .batchSize(s.integer("train.batch.size"))
                .gradientAccumulation(s.integer("train.gradient.accumulation"))
                .maxSteps(s.longValue("train.steps"))
                .learningRate(s.decimal("train.learning.rate"))
                .minLearningRate(s.decimal("train.min.learning.rate"))
                .warmupSteps(s.longValue("train.warmup.steps"))
                .weightDecay(s.decimal("train.weight.decay"))
                .betas(s.decimal("train.beta1"), s.decimal("train.beta2"))
                .epsilon(s.decimal("train.epsilon"))
                .gradientClip(s.decimal("train.gradient.clip"))
                .seed(s.longValue("train.seed"))
                .maxRestores(s.integer("train.max.restores"))
                .evalInterval(s.longValue("eval.interval"))
                .maxValidationWindows(s.integer("eval.max.windows"))
                .checkpointInterval(s.longValue("checkpoint.interval"))
                .keepCheckpoints(s.integer("checkpoint.keep"));
        if (s.has("train.decay.steps")) {
            training.decaySteps(s.longValue("train.decay.steps"));
        }
        TrainingConfig config;
        try {
            config = training.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train.* / eval.* / checkpoint.* settings: " + e.getMessage(), e);
        }
        long exportInterval = s.longValue("export.interval");
        if (exportInterval < 0) {
            throw new IllegalArgumentException("setting 'export.interval' must not be negative");
        }
        long idleMillis = s.longValue("windows.idle.timeout.ms");
        if (idleMillis < 0) {
            throw new IllegalArgumentException("setting 'windows.idle.timeout.ms' must not be negative");
        }
        return new TrainerSettings(
                initFrom == null ? s.string("tokenizer") : initFrom.resolve(ModelFiles.TOKENIZER).toString(),
                s.string("tokenizer.bos", ""),
                s.string("tokenizer.eos", ""),
                s.string("tokenizer.pad", ""),
                s.string("model.name"),
                shape,
                classLabels(s),
                initFrom,
                config,
                Path.of(s.string("checkpoint.dir")),
                Path.of(s.string("models.root")),
                exportInterval,
                s.string("topic.windows"),
                s.string("topic.models"),
                s.string("topic.dead-letters", null),
                Duration.ofMillis(idleMillis),
                s.bool("windows.repeat"),
                s.integer("ops.port"),
                s.kafka(),
                s.asMap());
    }
}
