package io.llmstream.tokenizer.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's Jinja chat template, rendered as transformers' {@code apply_chat_template(messages,
 * add_generation_prompt=..., tokenize=False)} renders it: the same environment settings (trim_blocks, lstrip_blocks,
 * loop controls, the immutable sandbox), the same globals and {@code tojson}, and the tokenizer's special tokens as
 * variables ({@code bos_token}, {@code eos_token}, ...). The rendered text is then encoded with special tokens
 * matched and nothing added, as transformers does.
 *
 * <p>Our own interpreter of the Jinja subset chat templates use (see the package's classes): a template that needs
 * more is refused when it is loaded, with the line and the missing filter, test or tag.
 */
public final class ChatTemplate {
    /** tokenizer_config.json fields transformers passes to the template as variables. */
    private static final List<String> SPECIAL_TOKEN_FIELDS = List.of("bos_token", "eos_token", "unk_token",
            "sep_token", "pad_token", "cls_token", "mask_token");

    private final String origin;
    private final List<Node> template;
    private final Map<String, Object> specialTokens;

    private ChatTemplate(String origin, String source, Map<String, Object> specialTokens) {
        this.origin = origin;
        try {
            this.template = TemplateParser.parse(source);
        } catch (TemplateError e) {
            throw failure(e);
        }
        this.specialTokens = specialTokens;
    }

    /**
     * A template's source; {@code origin} names where it came from in errors, {@code specialTokens} are the variables
     * such as {@code bos_token}.
     */
    public static ChatTemplate of(String source, String origin, Map<String, String> specialTokens) {
        return new ChatTemplate(origin, source, new LinkedHashMap<>(specialTokens));
    }

    /**
     * The template of a HuggingFace model (or tokenizer) directory: {@code chat_template.jinja} when present, else
     * {@code tokenizer_config.json}'s {@code chat_template} (a string, or the list of named templates, of which
     * "default" is taken); the special tokens come from tokenizer_config.json. Empty when the model has none.
     */
    public static Optional<ChatTemplate> fromModelDirectory(Path dir) throws IOException {
        Path config = dir.resolve("tokenizer_config.json");
        JsonNode root = tokenizerConfig(dir);
        Map<String, Object> specials = specialTokens(root);
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            return Optional.of(new ChatTemplate(jinja.toString(), Files.readString(jinja), specials));
        }
        JsonNode template = root.get("chat_template");
        if (template == null || template.isNull()) {
            return Optional.empty();
        }
        if (template.isArray()) {
            for (JsonNode named : template) {
                if (named.path("name").asText().equals("default")) {
                    return Optional.of(new ChatTemplate(config + " (chat_template 'default')",
                            named.path("template").asText(), specials));
                }
            }
            throw new ChatTemplateException(config + ": chat_template lists no template named 'default'");
        }
        return Optional.of(new ChatTemplate(config + " (chat_template)", template.asText(), specials));
    }

    /**
     * A model directory's template ({@link #fromModelDirectory}), or a Jinja file with the special tokens of the
     * tokenizer_config.json beside it; a clear error when there is none.
     */
    public static ChatTemplate load(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return fromModelDirectory(path).orElseThrow(() -> new ChatTemplateException(path
                    + " has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json)"));
        }
        if (!Files.isRegularFile(path)) {
            throw new ChatTemplateException("no chat template at " + path + " (a model directory or a .jinja file)");
        }
        return new ChatTemplate(path.toString(), Files.readString(path),
                specialTokens(tokenizerConfig(path.toAbsolutePath().getParent())));
    }

    /** The directory's tokenizer_config.json, or an empty object when it has none. */
    private static JsonNode tokenizerConfig(Path dir) throws IOException {
        Path config = dir.resolve("tokenizer_config.json");
        ObjectMapper json = new ObjectMapper();
        return Files.isRegularFile(config) ? json.readTree(config.toFile()) : json.createObjectNode();
    }

    private static Map<String, Object> specialTokens(JsonNode root) {
        Map<String, Object> tokens = new LinkedHashMap<>();
        for (String field : SPECIAL_TOKEN_FIELDS) {
            JsonNode t = root.get(field);
            String content = t == null || t.isNull() ? null : t.isTextual() ? t.asText() : t.path("content").asText(null);
            if (content != null) {
                tokens.put(field, content);
            }
        }
        JsonNode extra = root.get("additional_special_tokens");
        if (extra != null && extra.isArray()) {
            List<Object> list = new ArrayList<>();
            extra.forEach(t -> list.add(t.isTextual() ? t.asText() : t.path("content").asText()));
            tokens.put("additional_special_tokens", list);
        }
        return tokens;
    }

    public String origin() {
        return origin;
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            maps.add(map);
        }
        return render(maps, addGenerationPrompt, Map.of());
    }

    /**
     * Messages as transformers takes them (maps with role, content and whatever else the template reads, such as
     * tool_calls), and extra variables (tools, documents, enable_thinking, ...).
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
                         Map<String, ?> variables) {
        Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
        variables.forEach((k, v) -> vars.put(k, Values.fromJava(v)));
        vars.put("messages", Values.fromJava(messages));
        vars.put("add_generation_prompt", addGenerationPrompt);
        try {
            return Renderer.render(template, vars);
        } catch (TemplateError e) {
            throw failure(e);
        } catch (StackOverflowError e) {
            throw new ChatTemplateException(origin + ": the chat template recursed too deeply");
        }
    }

    private ChatTemplateException failure(TemplateError e) {
        return new ChatTemplateException(origin + (e.line > 0 ? ", line " + e.line : "") + ": " + e.getMessage());
    }
}
