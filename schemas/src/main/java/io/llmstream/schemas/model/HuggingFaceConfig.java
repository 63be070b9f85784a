package io.llmstream.schemas.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What a HuggingFace model directory's {@code config.json} (and {@code generation_config.json}) says about the decoder,
 * under the names of the GPT-2 ({@code n_embd}, {@code n_head}, …) and Llama-style ({@code hidden_size}, …) configs;
 * 0 where a field is absent.
 *
 * @param eosIds every {@code eos_token_id} of both files: generate() stops at each of them
 */
public record HuggingFaceConfig(String modelType, int vocabSize, int contextLength, int layers, int heads, int kvHeads,
                                int hidden, int headDim, int intermediate, int[] eosIds) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code dir}'s config.json (required) and generation_config.json (optional). */
    public static HuggingFaceConfig read(Path dir) throws IOException {
        JsonNode config = JSON.readTree(dir.resolve(ModelFiles.HF_CONFIG).toFile());
        Set<Integer> eos = new LinkedHashSet<>();
        addEos(config, eos);
        Path generation = dir.resolve(ModelFiles.HF_GENERATION_CONFIG);
        if (Files.isRegularFile(generation)) {
            addEos(JSON.readTree(generation.toFile()), eos);
        }
        int heads = firstInt(config, "num_attention_heads", "n_head");
        int hidden = firstInt(config, "hidden_size", "n_embd");
        int kvHeads = firstInt(config, "num_key_value_heads");
        int headDim = firstInt(config, "head_dim");
        int intermediate = firstInt(config, "intermediate_size", "n_inner");
        return new HuggingFaceConfig(config.path("model_type").asText(""), firstInt(config, "vocab_size"),
                firstInt(config, "max_position_embeddings", "n_positions", "n_ctx", "seq_length"),
                firstInt(config, "num_hidden_layers", "n_layer"), heads, kvHeads > 0 ? kvHeads : heads, hidden,
                headDim == 0 && heads > 0 ? hidden / heads : headDim,
                intermediate == 0 ? 4 * hidden : intermediate, // GPT-2's n_inner null means 4 x n_embd
                eos.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void addEos(JsonNode config, Set<Integer> ids) {
        JsonNode eos = config.path("eos_token_id");
        if (eos.isArray()) {
            eos.forEach(id -> ids.add(id.asInt()));
        } else if (eos.canConvertToInt()) {
            ids.add(eos.asInt());
        }
    }

    private static int firstInt(JsonNode config, String... keys) {
        for (String key : keys) {
            if (config.path(key).canConvertToInt()) {
                return config.path(key).asInt();
            }
        }
        return 0;
    }
}
