package io.llmstream.tokenizer.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every chat template in ../shared/models (Llama-3, Qwen3, Gemma-3, DeepSeek-V3, verbatim) rendered for HF's six
 * conversations: the text equals transformers' apply_chat_template(..., tokenize=False), and its ids (special tokens
 * matched, nothing added) equal apply_chat_template(..., tokenize=True).
 */
class ChatTemplateFixturesTest {
    private static final Path MODELS = Path.of(System.getProperty("llmstream.shared", "../../../shared")).resolve("models");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyFixtureRendersAsTransformersDoes() throws IOException {
        List<Path> dirs;
        try (Stream<Path> files = Files.walk(MODELS, 3)) {
            dirs = files.filter(p -> p.getFileName().toString().equals("chat_expected.json"))
                    .map(Path::getParent).sorted().toList();
        }
        assertThat(dirs).extracting(d -> MODELS.relativize(d).toString())
                .contains("llama-fp32", "qwen2-fp32", "chat-templates/gemma3", "chat-templates/deepseek_v3");
        List<String> wrong = new ArrayList<>();
        int cases = 0;
        for (Path dir : dirs) {
            ChatTemplate template = ChatTemplate.fromModelDirectory(dir).orElseThrow();
            Tokenizer tokenizer = Tokenizers.huggingFace(dir.resolve("tokenizer.json"));
            for (JsonNode c : JSON.readTree(dir.resolve("chat_expected.json").toFile()).path("cases")) {
                List<Map<String, Object>> messages = JSON.convertValue(c.path("messages"),
                        JSON.getTypeFactory().constructCollectionType(List.class, Map.class));
                String text = template.render(messages, c.path("add_generation_prompt").asBoolean(), Map.of());
                int[] ids = tokenizer.encode(text, SpecialTokens.all());
                int[] expected = JSON.convertValue(c.path("ids"), int[].class);
                if (!text.equals(c.path("text").asText()) || !Arrays.equals(ids, expected)) {
                    wrong.add(MODELS.relativize(dir) + " " + c.path("name").asText() + ": " + JSON.writeValueAsString(text)
                            + " != " + JSON.writeValueAsString(c.path("text").asText()));
                }
                cases++;
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(cases).isGreaterThanOrEqualTo(6 * 4);
    }

    @Test
    void chatMessagesRenderLikeMaps() throws IOException {
        ChatTemplate qwen = ChatTemplate.fromModelDirectory(MODELS.resolve("qwen2-fp32")).orElseThrow();
        assertThat(qwen.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true))
                .isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        assertThat(ChatTemplate.fromModelDirectory(MODELS.resolve("gpt2-fp32"))).isEmpty();
    }
}
