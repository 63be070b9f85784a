package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokenizerTrainCommandTest {

    private static int run(String... args) {
        return LlmstreamCommand.commandLine().execute(args);
    }

    @Test
    void learnsAVocabularyFromFilesAndJsonLines(@TempDir Path dir) throws Exception {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        for (int i = 0; i < 20; i++) {
            Files.writeString(corpus.resolve("doc" + i + ".txt"), "the stream tokenizes the documents, then the trainer learns " + i + "\n");
        }
        Files.writeString(corpus.resolve("more.jsonl"), "{\"id\":\"a\",\"text\":\"streaming tokens to the trainer\"}\n");
        Path out = dir.resolve("tokenizer.json");
        assertThat(run("tokenizer-train", "--vocab-size", "300", "--input", corpus.toString(), "--out", out.toString())).isZero();

        Tokenizer tokenizer = Tokenizers.load(out.toString());
        assertThat(tokenizer.vocabSize()).isBetween(257, 300);
        String text = "the trainer tokenizes the stream";
        int[] ids = tokenizer.encode(text);
        assertThat(ids.length).isLessThan(text.length()); // merges learnt from the corpus apply
        assertThat(tokenizer.decode(ids)).isEqualTo(text);
        assertThat(tokenizer.encode("x<|endoftext|>", SpecialTokens.all())).hasSize(2);

        Path again = dir.resolve("again.json");
        run("tokenizer-train", "--vocab-size", "300", "--input", corpus.toString(), "--out", again.toString());
        assertThat(Files.readString(again)).isEqualTo(Files.readString(out));
    }

    @Test
    void missingInputIsAnErrorNamingThePath(@TempDir Path dir) {
        CommandLine cli = LlmstreamCommand.commandLine();
        java.io.StringWriter err = new java.io.StringWriter();
        cli.setErr(new java.io.PrintWriter(err));
        int code = cli.execute("tokenizer-train", "--vocab-size", "300", "--input", dir.resolve("nope").toString(),
                "--out", dir.resolve("t.json").toString());
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("nope");
    }
}
