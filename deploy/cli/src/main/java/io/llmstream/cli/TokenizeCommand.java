package io.llmstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llmstream tokenize}: text to ids. {@code --format text}: the whole input is one document, printed as ids
 * separated by single spaces and a newline. {@code --format jsonl}: each line {"text": ...} becomes {"ids": [...]}.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Turn text into token ids.")
public final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Shared by tokenize and detokenize. */
    static final class Io {
        @Option(names = "--tokenizer", required = true, paramLabel = "NAME_OR_PATH",
                description = "r50k_base, p50k_base, cl100k_base, o200k_base, a tokenizer.json or a .tiktoken file.")
        String tokenizer;

        @Option(names = "--in", paramLabel = "FILE", description = "Input file (default: standard input).")
        Path in;

        @Option(names = "--out", paramLabel = "FILE", description = "Output file (default: standard output).")
        Path out;

        @Option(names = "--format", defaultValue = "text", description = "text or jsonl (default: ${DEFAULT-VALUE}).")
        Format format;

        InputStream input() throws IOException {
            return in == null ? System.in : Files.newInputStream(in);
        }

        Writer output() throws IOException {
            OutputStream os = out == null ? System.out : Files.newOutputStream(out);
            return new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8), 1 << 16);
        }
    }

    enum Format { text, jsonl }

    enum Special { none, all }

    @picocli.CommandLine.Mixin
    Io io;

    @Option(names = "--special", defaultValue = "none",
            description = "none: special-token text is plain text; all: it becomes the special ids (default: ${DEFAULT-VALUE}).")
    Special special;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = Tokenizers.load(io.tokenizer);
        SpecialTokens policy = special == Special.all ? SpecialTokens.all() : SpecialTokens.none();
        try (InputStream in = io.input(); Writer out = io.output()) {
            if (io.format == Format.text) {
                writeIds(out, tokenizer.encode(new String(in.readAllBytes(), StandardCharsets.UTF_8), policy), " ");
                out.write('\n');
            } else {
                BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                int lineNo = 0;
                for (String line; (line = lines.readLine()) != null; ) {
                    lineNo++;
                    JsonNode node = JSON.readTree(line);
                    if (node == null || !node.hasNonNull("text")) {
                        throw new IllegalArgumentException("line " + lineNo + ": expected a JSON object with a \"text\" field");
                    }
                    out.write("{\"ids\":[");
                    writeIds(out, tokenizer.encode(node.get("text").asText(), policy), ",");
                    out.write("]}\n");
                }
            }
        }
        return 0;
    }

    private static void writeIds(Writer out, int[] ids, String separator) throws IOException {
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                out.write(separator);
            }
            out.write(Integer.toString(ids[i]));
        }
    }
}
