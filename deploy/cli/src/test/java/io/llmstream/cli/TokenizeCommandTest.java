package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokenizeCommandTest {
    private static final Tokenizer CL100K = Tokenizers.load("cl100k_base");

    private static int run(String... args) {
        return LlmstreamCommand.commandLine().execute(args);
    }

    @Test
    void textFormatPrintsSpaceSeparatedIdsAndDetokenizeRestoresTheText(@TempDir Path dir) throws Exception {
        String text = "Hello <|endoftext|> wörld\n  tabs\tand 12345 🙂\n";
        Path in = Files.writeString(dir.resolve("in.txt"), text);
        assertThat(run("tokenize", "--tokenizer", "cl100k_base", "--in", in.toString(), "--out", dir.resolve("ids").toString()))
                .isZero();
        String ids = Files.readString(dir.resolve("ids"));
        assertThat(ids).isEqualTo(Arrays.stream(CL100K.encode(text)).mapToObj(Integer::toString)
                .collect(Collectors.joining(" ")) + "\n");

        assertThat(run("detokenize", "--tokenizer", "cl100k_base", "--in", dir.resolve("ids").toString(),
                "--out", dir.resolve("back.txt").toString())).isZero();
        assertThat(Files.readString(dir.resolve("back.txt"))).isEqualTo(text);
    }

    @Test
    void specialAllTurnsSpecialTextIntoSpecialIds(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.txt"), "a<|endoftext|>b");
        run("tokenize", "--tokenizer", "cl100k_base", "--special", "all", "--in", in.toString(), "--out", dir.resolve("ids").toString());
        assertThat(Files.readString(dir.resolve("ids")).strip())
                .isEqualTo(Arrays.stream(CL100K.encode("a<|endoftext|>b", SpecialTokens.all()))
                        .mapToObj(Integer::toString).collect(Collectors.joining(" ")))
                .contains("100257");
    }

    @Test
    void jsonlFormatKeepsLineOrder(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"text\":\"one\"}\n{\"text\":\"two words\"}\n",
                StandardCharsets.UTF_8);
        run("tokenize", "--tokenizer", "o200k_base", "--format", "jsonl", "--in", in.toString(),
                "--out", dir.resolve("out.jsonl").toString());
        Tokenizer o200k = Tokenizers.load("o200k_base");
        assertThat(Files.readAllLines(dir.resolve("out.jsonl"))).containsExactly(
                "{\"ids\":[" + join(o200k.encode("one")) + "]}",
                "{\"ids\":[" + join(o200k.encode("two words")) + "]}");
    }

    @Test
    void aUsersMistakeIsOneLineNamingTheCommandNotAStackTrace(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        CommandLine cli = LlmstreamCommand.commandLine().setErr(new PrintWriter(err, true));
        assertThat(cli.execute("tokenize", "--tokenizer", "nope")).isEqualTo(2);
        assertThat(err.toString()).startsWith("llmstream tokenize: unknown tokenizer 'nope'")
                .doesNotContain("\tat ").hasLineCount(1);

        err.getBuffer().setLength(0);
        Path missing = dir.resolve("missing.txt");
        assertThat(cli.execute("tokenize", "--tokenizer", "cl100k_base", "--in", missing.toString())).isEqualTo(1);
        assertThat(err.toString()).isEqualTo("llmstream tokenize: no such file: " + missing + System.lineSeparator());
    }

    private static String join(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
