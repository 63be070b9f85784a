package io.llmstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code llmstream detokenize}: the reverse of tokenize (ids separated by white space, or {"ids": [...]} lines). */
@Command(name = "detokenize", mixinStandardHelpOptions = true, description = "Turn token ids back into text.")
public final class DetokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    TokenizeCommand.Io io;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = Tokenizers.load(io.tokenizer);
        try (InputStream in = io.input(); Writer out = io.output()) {
            if (io.format == TokenizeCommand.Format.text) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                out.write(tokenizer.decode(parseIds(text)));
            } else {
                BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                int lineNo = 0;
                for (String line; (line = lines.readLine()) != null; ) {
                    lineNo++;
                    JsonNode ids = JSON.readTree(line).path("ids");
                    if (!ids.isArray()) {
                        throw new IllegalArgumentException("line " + lineNo + ": expected a JSON object with an \"ids\" array");
                    }
                    int[] values = new int[ids.size()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = ids.get(i).asInt();
                    }
                    out.write(JSON.writeValueAsString(java.util.Map.of("text", tokenizer.decode(values))));
                    out.write('\n');
                }
            }
        }
        return 0;
    }

    private static int[] parseIds(String text) {
        if (text.isEmpty()) {
            return new int[0];
        }
        String[] parts = text.split("\\s+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("token " + (i + 1) + " is not an id: '" + parts[i] + "'");
            }
        }
        return ids;
    }
}
