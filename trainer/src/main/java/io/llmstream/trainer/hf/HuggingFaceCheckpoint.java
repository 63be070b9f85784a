package io.llmstream.trainer.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.schemas.model.HuggingFaceConfig;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.trainer.Decoder;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.Matrices;
import io.llmstream.trainer.LlamaConfig;
import io.llmstream.trainer.ModelConfig;
import io.llmstream.trainer.NamedParameter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A HuggingFace model directory as a decoder to train: {@code config.json} says the architecture, the weights come
 * from {@code model.safetensors} or the shards a {@code model.safetensors.index.json} lists (F32, F16 or BF16, read a
 * tensor at a time). Supported: {@code model_type} gpt2 (as {@link io.llmstream.trainer.Gpt}), llama and qwen2 (as
 * {@link io.llmstream.trainer.Llama}). Anything the model would get wrong (another rotary scaling, a sliding window,
 * biases where we have none, a tensor with no place in the model) is refused naming the field or tensor, never
 * trained on silently.
 */
public final class HuggingFaceCheckpoint {

    private static final Logger log = LoggerFactory.getLogger(HuggingFaceCheckpoint.class);

    /** The weights of one file, or the index of a sharded checkpoint. */
    public static final String WEIGHTS = "model.safetensors";
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceCheckpoint() {}

    /**
     * The decoder {@code dir} holds, with its weights, its parameters in {@code manager}.
     *
     * @throws IllegalArgumentException naming the file and field or tensor when the checkpoint is not one we can train
     */
    public static Decoder load(Path dir, NDManager manager) throws IOException {
        Decoder model = config(dir).create(manager, 0);
        loadWeights(dir, model);
        return model;
    }

    /**
     * The architecture and shape {@code dir}'s config.json describes.
     *
     * @throws IllegalArgumentException naming the file and field when it is not one we can train
     */
    public static ModelConfig config(Path dir) throws IOException {
        Path configFile = dir.resolve(ModelFiles.HF_CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException(dir + " is not a HuggingFace model directory: it has no " + ModelFiles.HF_CONFIG);
        }
        JsonNode config = JSON.readTree(configFile.toFile());
        String type = config.path("model_type").asText("");
        return switch (type) {
            case "llama", "qwen2" -> llamaConfig(config, HuggingFaceConfig.read(dir), configFile);
            case "gpt2" -> gptConfig(config, HuggingFaceConfig.read(dir), configFile);
            default -> throw new IllegalArgumentException(configFile + ": model_type '" + type
                    + "' is not supported (supported: gpt2, llama, qwen2)");
        };
    }

    static GptConfig gptConfig(JsonNode config, HuggingFaceConfig shape, Path file) {
        String activation = config.path("activation_function").asText("gelu_new");
        boolean tanh = switch (activation) {
            case "gelu" -> false;
            case "gelu_new", "gelu_pytorch_tanh" -> true;
            default -> throw new IllegalArgumentException(file + ": activation_function '" + activation
                    + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh)");
        };
        double eps = config.path("layer_norm_epsilon").asDouble(GptConfig.LAYER_NORM_EPS);
        if ((float) eps != GptConfig.LAYER_NORM_EPS) {
            throw new IllegalArgumentException(file + ": layer_norm_epsilon " + eps + " is not supported (only "
                    + GptConfig.LAYER_NORM_EPS + ")");
        }
        if (!config.path("scale_attn_weights").asBoolean(true) || config.path("scale_attn_by_inverse_layer_idx").asBoolean(false)) {
            throw new IllegalArgumentException(file + ": scale_attn_weights false or scale_attn_by_inverse_layer_idx true"
                    + " is not supported");
        }
        // Dropout is a training choice, not part of the checkpoint: fine-tuning starts without it.
        return new GptConfig(shape.vocabSize(), shape.contextLength(), shape.layers(), shape.heads(), shape.hidden(),
                shape.intermediate(), 0f, config.path("tie_word_embeddings").asBoolean(true), tanh);
    }

    static LlamaConfig llamaConfig(JsonNode config, HuggingFaceConfig shape, Path file) {
        require(config, "hidden_act", "silu", file);
        JsonNode rope = config.has("rope_parameters") ? config.path("rope_parameters") : config.path("rope_scaling");
        String ropeType = rope.path("rope_type").asText(rope.path("type").asText("default"));
        if (!ropeType.equals("default")) {
            throw new IllegalArgumentException(file + ": rope_type '" + ropeType + "' is not supported (only 'default')");
        }
        if (rope.has("partial_rotary_factor") && rope.path("partial_rotary_factor").asDouble() != 1.0) {
            throw new IllegalArgumentException(file + ": partial_rotary_factor " + rope.path("partial_rotary_factor")
                    + " is not supported (only 1.0)");
        }
        double theta = rope.path("rope_theta").asDouble(config.path("rope_theta").asDouble(10000.0));
        if (shape.headDim() * shape.heads() != shape.hidden()) {
            throw new IllegalArgumentException(file + ": head_dim " + shape.headDim() + " times num_attention_heads "
                    + shape.heads() + " is not hidden_size " + shape.hidden());
        }
        boolean qwen2 = config.path("model_type").asText().equals("qwen2");
        if (qwen2 && config.path("use_sliding_window").asBoolean(false)) {
            throw new IllegalArgumentException(file + ": use_sliding_window true is not supported");
        }
        if (!qwen2 && config.path("attention_bias").asBoolean(false)) {
            throw new IllegalArgumentException(file + ": attention_bias true is not supported");
        }
        if (config.path("mlp_bias").asBoolean(false)) {
            throw new IllegalArgumentException(file + ": mlp_bias true is not supported");
        }
        return new LlamaConfig(shape.vocabSize(), shape.contextLength(), shape.layers(), shape.heads(), shape.kvHeads(),
                shape.hidden(), shape.intermediate(), theta, (float) config.path("rms_norm_eps").asDouble(1e-6), qwen2,
                config.path("tie_word_embeddings").asBoolean(false));
    }

    /**
     * Fills every parameter of {@code model} from the checkpoint's tensor of the same name and shape. The
     * classification head is the exception both ways: a checkpoint without one leaves the model's fresh head, and a
     * head the model does not have is left out.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing, of another shape, or left over
     */
    public static void loadWeights(Path dir, Decoder model) throws IOException {
        Map<String, SafeTensors> files = tensorFiles(dir);
        Set<String> unused = new HashSet<>(files.keySet());
        for (NamedParameter p : model.namedParameters()) {
            String name = HuggingFaceNames.of(model, p.name());
            SafeTensors file = files.get(name);
            if (file == null && p.name().equals(Decoder.CLASS_HEAD)) {
                log.info("{}: no classification head in the checkpoint; {} starts from fresh weights", dir, name);
                continue;
            }
            if (file == null) {
                throw new IllegalArgumentException(dir + ": the checkpoint has no tensor '" + name + "'");
            }
            NDArray target = p.parameter().getArray();
            long[] expected = target.getShape().getShape();
            boolean transposed = HuggingFaceNames.transposed(model, p.name());
            long[] stored = transposed ? new long[] {expected[1], expected[0]} : expected;
            long[] found = file.entries().get(name).shape();
            if (!Arrays.equals(stored, found)) {
                throw new IllegalArgumentException(dir + ": tensor '" + name + "' has shape " + Arrays.toString(found)
                        + ", the config makes it " + Arrays.toString(stored));
            }
            float[] values = file.floats(name);
            target.set(FloatBuffer.wrap(transposed ? Matrices.transpose(values, (int) found[0], (int) found[1]) : values));
            unused.remove(name);
        }
        // Buffers, not weights: rotary frequencies and GPT-2's causal mask; a tied head's copy of the embeddings.
        unused.removeIf(name -> name.endsWith(".rotary_emb.inv_freq") || name.endsWith(".attn.bias")
                || name.endsWith(".attn.masked_bias") || name.equals("lm_head.weight"));
        if (unused.remove(Decoder.CLASS_HEAD)) {
            log.info("{}: the checkpoint's classification head is left out (classify.labels is empty)", dir);
        }
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException(dir + ": tensor '" + unused.stream().sorted().findFirst().orElseThrow()
                    + "' has no place in the model its config.json describes");
        }
    }

    /** Tensor name to the file holding it. */
    private static Map<String, SafeTensors> tensorFiles(Path dir) throws IOException {
        Map<String, SafeTensors> byName = new LinkedHashMap<>();
        Path index = dir.resolve(WEIGHTS_INDEX);
        if (Files.isRegularFile(index)) {
            Map<String, SafeTensors> shards = new LinkedHashMap<>();
            var fields = JSON.readTree(index.toFile()).path("weight_map").fields();
            while (fields.hasNext()) {
                var e = fields.next();
                SafeTensors shard = shards.get(e.getValue().asText());
                if (shard == null) {
                    shard = SafeTensors.open(dir.resolve(e.getValue().asText()));
                    shards.put(e.getValue().asText(), shard);
                }
                if (!shard.entries().containsKey(e.getKey())) {
                    throw new IllegalArgumentException(index + " puts tensor '" + e.getKey() + "' in "
                            + e.getValue().asText() + ", which does not hold it");
                }
                byName.put(e.getKey(), shard);
            }
            return byName;
        }
        Path single = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(single)) {
            throw new IllegalArgumentException(dir + " holds neither " + WEIGHTS + " nor " + WEIGHTS_INDEX);
        }
        SafeTensors file = SafeTensors.open(single);
        file.entries().keySet().forEach(name -> byName.put(name, file));
        return byName;
    }

    private static void require(JsonNode config, String field, String value, Path file) {
        String found = config.path(field).asText(value);
        if (!found.equals(value)) {
            throw new IllegalArgumentException(file + ": " + field + " '" + found + "' is not supported (only '" + value + "')");
        }
    }
}
