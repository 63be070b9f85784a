package io.llmstream.trainer.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.llmstream.schemas.model.ModelFiles;
import io.llmstream.schemas.model.ModelManifest.SpecialTokens;
import io.llmstream.trainer.Decoder;
import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.LlamaConfig;
import io.llmstream.trainer.Matrices;
import io.llmstream.trainer.NamedParameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained decoder as transformers saves one: {@code config.json}, {@code generation_config.json} and
 * {@code model.safetensors} (float32, a tied head not stored twice), so that
 * {@code AutoModelForCausalLM.from_pretrained(dir)} loads it as a {@code GPT2LMHeadModel}, {@code LlamaForCausalLM}
 * or (a Llama with q/k/v biases) {@code Qwen2ForCausalLM}, and our own {@code init.from} reads it back. A model with a
 * classification head also stores {@code score.weight} and {@code id2label}, so that
 * {@code AutoModelForSequenceClassification} loads the same directory with that head.
 */
public final class HuggingFaceExport {

    /** The files {@link #write} adds to a model directory. */
    public static final List<String> FILES = List.of(ModelFiles.HF_CONFIG, ModelFiles.HF_GENERATION_CONFIG,
            HuggingFaceCheckpoint.WEIGHTS);

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HuggingFaceExport() {}

    /** Writes {@link #FILES} into {@code dir}. Reads the current weights; do not train the model while this runs. */
    public static void write(Decoder model, SpecialTokens special, Path dir) throws IOException {
        ObjectNode config = model.config() instanceof GptConfig gpt ? gpt2Config(gpt) : llamaConfig((LlamaConfig) model.config());
        config.put("vocab_size", model.vocabSize());
        config.put("torch_dtype", "float32");
        config.put("use_cache", true);
        tokenIds(config, special);
        List<String> labels = model.config().classLabels();
        if (!labels.isEmpty()) {
            // what *ForSequenceClassification reads beside score.weight; *ForCausalLM ignores both
            ObjectNode id2label = config.putObject("id2label");
            ObjectNode label2id = config.putObject("label2id");
            for (int i = 0; i < labels.size(); i++) {
                id2label.put(Integer.toString(i), labels.get(i));
                label2id.put(labels.get(i), i);
            }
        }
        JSON.writeValue(dir.resolve(ModelFiles.HF_CONFIG).toFile(), config);

        ObjectNode generation = JSON.createObjectNode();
        tokenIds(generation, special);
        generation.put("do_sample", false);
        JSON.writeValue(dir.resolve(ModelFiles.HF_GENERATION_CONFIG).toFile(), generation);

        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        for (NamedParameter p : model.namedParameters()) {
            long[] shape = p.parameter().getArray().getShape().getShape();
            float[] values = p.parameter().getArray().toFloatArray();
            if (HuggingFaceNames.transposed(model, p.name())) {
                values = Matrices.transpose(values, (int) shape[0], (int) shape[1]);
                shape = new long[] {shape[1], shape[0]};
            }
            tensors.put(HuggingFaceNames.of(model, p.name()), new SafeTensors.Tensor(shape, values));
        }
        // transformers refuses safetensors files whose metadata does not name the framework
        SafeTensors.write(dir.resolve(HuggingFaceCheckpoint.WEIGHTS), tensors, Map.of("format", "pt"));
    }

    private static ObjectNode gpt2Config(GptConfig c) {
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add("GPT2LMHeadModel");
        config.put("model_type", "gpt2");
        config.put("n_positions", c.contextLength());
        config.put("n_embd", c.dModel());
        config.put("n_layer", c.layers());
        config.put("n_head", c.heads());
        config.put("n_inner", c.dFF());
        config.put("activation_function", c.tanhGelu() ? "gelu_new" : "gelu");
        config.put("layer_norm_epsilon", GptConfig.LAYER_NORM_EPS);
        config.put("resid_pdrop", c.dropout());
        config.put("embd_pdrop", c.dropout());
        config.put("attn_pdrop", c.dropout());
        config.put("scale_attn_weights", true);
        config.put("tie_word_embeddings", c.tieEmbeddings());
        return config;
    }

    private static ObjectNode llamaConfig(LlamaConfig c) {
        ObjectNode config = JSON.createObjectNode();
        // transformers' Llama puts attention_bias on o_proj too; biases on q, k and v alone are Qwen2's layout
        boolean qwen2 = c.qkvBias();
        config.putArray("architectures").add(qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        config.put("model_type", qwen2 ? "qwen2" : "llama");
        config.put("hidden_size", c.dModel());
        config.put("intermediate_size", c.dFF());
        config.put("num_hidden_layers", c.layers());
        config.put("num_attention_heads", c.heads());
        config.put("num_key_value_heads", c.kvHeads());
        config.put("head_dim", c.headDim());
        config.put("hidden_act", "silu");
        config.put("max_position_embeddings", c.contextLength());
        config.put("rms_norm_eps", c.rmsNormEps());
        // rope_theta for transformers 4, rope_parameters for 5
        config.put("rope_theta", c.ropeTheta());
        ObjectNode rope = config.putObject("rope_parameters");
        rope.put("rope_theta", c.ropeTheta());
        rope.put("rope_type", "default");
        if (qwen2) {
            config.put("use_sliding_window", false);
            config.putNull("sliding_window");
        } else {
            config.put("attention_bias", false);
            config.put("mlp_bias", false);
        }
        config.put("attention_dropout", 0.0);
        config.put("tie_word_embeddings", c.tieEmbeddings());
        return config;
    }

    private static void tokenIds(ObjectNode node, SpecialTokens special) {
        putId(node, "bos_token_id", special.bos());
        putId(node, "eos_token_id", special.eos());
        putId(node, "pad_token_id", special.pad());
    }

    private static void putId(ObjectNode node, String field, int id) {
        if (id >= 0) {
            node.put(field, id);
        } else {
            node.putNull(field);
        }
    }
}
