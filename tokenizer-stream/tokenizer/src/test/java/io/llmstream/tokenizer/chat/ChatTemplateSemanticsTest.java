package io.llmstream.tokenizer.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The interpreter against Jinja2 itself: jinja_cases.json holds small templates (whitespace control, scoping, loops,
 * operators, filters, tests, Python string methods, tojson, macros, errors) rendered by Jinja2 in transformers' chat
 * environment; see make_jinja_cases.py beside it.
 */
class ChatTemplateSemanticsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @SuppressWarnings("unchecked")
    void everyCaseRendersAsJinja2Does() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/chat/jinja_cases.json")) {
            root = JSON.readTree(in);
        }
        List<String> wrong = new ArrayList<>();
        int errors = 0;
        for (JsonNode c : root.path("cases")) {
            String template = c.path("template").asText();
            Map<String, Object> vars = new java.util.HashMap<>(JSON.convertValue(c.path("vars"), Map.class));
            List<Map<String, Object>> messages = (List<Map<String, Object>>) vars.getOrDefault("messages", List.of());
            vars.remove("messages");
            String got;
            try {
                got = ChatTemplate.of(template, "case", Map.of()).render(messages, false, vars);
            } catch (ChatTemplateException e) {
                got = "ERROR " + e.getMessage();
            }
            if (c.has("error")) {
                errors++;
                if (!got.startsWith("ERROR ")) {
                    wrong.add(template + " -> " + JSON.writeValueAsString(got) + ", Jinja2: " + c.path("error").asText());
                }
            } else if (!got.equals(c.path("output").asText())) {
                wrong.add(template + " -> " + JSON.writeValueAsString(got) + " != "
                        + JSON.writeValueAsString(c.path("output").asText()));
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(root.path("cases").size()).isGreaterThan(70);
        assertThat(errors).isGreaterThanOrEqualTo(8);
    }

    @Test
    void errorsAreOneLineNamingTheTemplateAndLine() {
        assertThatThrownBy(() -> ChatTemplate.of("a\n{{ x|nosuchfilter }}", "t.jinja", Map.of()))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("t.jinja, line 2: no filter named 'nosuchfilter'");
        assertThatThrownBy(() -> ChatTemplate.of("{% include 'x' %}", "t.jinja", Map.of()))
                .hasMessage("t.jinja, line 1: unsupported tag {% include %}");
        ChatTemplate alternating = ChatTemplate.of("{% for m in messages %}\n{% if m.role == 'system' %}"
                + "{{ raise_exception('System role not supported') }}{% endif %}{% endfor %}", "t.jinja", Map.of());
        assertThatThrownBy(() -> alternating.render(List.of(ChatMessage.system("x")), true))
                .hasMessage("t.jinja, line 2: the chat template raised: System role not supported");
        assertThatThrownBy(() -> ChatTemplate.of("{{ m.role.x.y }}", "t.jinja", Map.of()).render(List.of(), true))
                .hasMessage("t.jinja, line 1: 'm' is undefined");
    }

    @Test
    void specialTokensAreVariables() {
        ChatTemplate t = ChatTemplate.of("{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}"
                + "{% endfor %}", "t", Map.of("bos_token", "<s>", "eos_token", "</s>"));
        assertThat(t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true)).isEqualTo("<s>a</s>b</s>");
    }
}
