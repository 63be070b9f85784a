package io.llmstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.inference.engine.Generation;
import io.llmstream.inference.engine.Generator;
import io.llmstream.inference.engine.Sampling;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.ExecutionProvider;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.chat.ChatMessage;
import io.llmstream.tokenizer.chat.ChatTemplate;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code llmstream generate}: one generation from a model directory, without Kafka, for a quick look at a model. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate a continuation of a prompt with a model directory (ours, or a HuggingFace export), without Kafka.",
                "Prints the generated text; the prompt's and the output's token counts and the finish reason go to stderr."})
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory: ours (model.json), or a HuggingFace export (config.json, tokenizer.json, one or more graphs).")
    Path model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The prompt (with --chat: the user message).")
    String prompt;

    @Option(names = "--chat", description = "Render the prompt as the user message of a conversation with the model's chat template (tokenizer_config.json or chat_template.jinja), as transformers' apply_chat_template(add_generation_prompt=True) does.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: a system message before the user message.")
    String system;

    @Option(names = "--chat-template", paramLabel = "FILE", description = "With --chat: this Jinja template (or model directory's) instead of the model's own.")
    Path chatTemplate;

    @Option(names = "--print-prompt", description = "Print the prompt as the model sees it (with --chat: the rendered conversation) before the output.")
    boolean printPrompt;

    /** Without --max-new-tokens: this many, or what the model's context leaves after the prompt when that is less. */
    private static final int DEFAULT_NEW_TOKENS = 64;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Upper bound on generated tokens (default: "
            + DEFAULT_NEW_TOKENS + ", or what the model's context leaves after the prompt when that is less).")
    Integer maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 for greedy decoding (default), else the sampling temperature.")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "Sample among the K most likely tokens; 0 for no cut (default).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "Nucleus sampling threshold; 1 for no cut (default).")
    float topP;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Random seed for sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--variant", paramLabel = "V", description = "The graph of a directory that holds several: fp32 (model.onnx), fp16, q4, q4f16, int8, ... (model_V.onnx, in onnx/ in onnx-community repositories); default: see the worker's model.variant.")
    String variant;

    @Option(names = "--provider", defaultValue = "cpu", paramLabel = "cpu|cuda", description = "Execution provider (default: ${DEFAULT-VALUE}); cuda falls back to cpu with a warning.")
    String provider;

    @Option(names = "--json", description = "Print one JSON object (model, graph file and variant, prompt and output ids, text, finish reason) instead of the text.")
    boolean json;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        if ((system != null || chatTemplate != null) && !chat) {
            throw new IllegalArgumentException("--system and --chat-template need --chat");
        }
        PrintWriter err = spec.commandLine().getErr();
        try (DecoderModel m = ModelLoader.load(model, new RuntimeOptions(ExecutionProvider.parse(provider), 0, 1, variant))) {
            String text = chat ? chatPrompt(m) : prompt;
            // as HF: apply_chat_template's ids (special tokens written by the template matched, none added), or
            // tokenizer(prompt) (the post-processor's special tokens added)
            int[] ids = chat ? m.tokenizer().encode(text, SpecialTokens.all())
                    : m.tokenizer().addSpecialTokens(m.tokenizer().encode(text));
            int budget = maxNewTokens != null ? maxNewTokens
                    : Math.min(DEFAULT_NEW_TOKENS, Math.max(1, m.contextLength() - ids.length));
            Generation g = Generator.generate(m, ids, new Sampling(budget, temperature, topK, topP, seed, new int[0]));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("model", m.id());
                o.put("graph", m.directory().relativize(m.graphFile()).toString());
                o.put("variant", variant);
                o.put("graphEdits", m.graphEdits());
                o.put("provider", m.provider().label());
                o.put("prompt", text);
                o.put("promptIds", ids);
                o.put("promptTruncated", g.promptTruncated());
                o.put("outputIds", g.outputIds());
                o.put("text", g.text());
                o.put("finishReason", g.finishReason().toString());
                out.println(JSON.writeValueAsString(o));
            } else {
                out.println(printPrompt ? text + g.text() : g.text());
            }
            out.flush();
            err.printf("%s on %s: prompt %d tokens%s, generated %d, finish %s%n", m.id(), m.provider().label(),
                    g.promptTokens(), g.promptTruncated() ? " (cut on the left)" : "", g.outputIds().length, g.finishReason());
            err.flush();
            return 0;
        }
    }

    private String chatPrompt(DecoderModel m) throws IOException {
        ChatTemplate template = chatTemplate != null ? ChatTemplate.load(chatTemplate)
                : ChatTemplate.fromModelDirectory(m.directory()).orElseThrow(() -> new IllegalArgumentException(
                        m.directory() + " has no chat template (tokenizer_config.json chat_template or "
                                + "chat_template.jinja); give one with --chat-template FILE"));
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        messages.add(ChatMessage.user(prompt));
        return template.render(messages, true);
    }
}
