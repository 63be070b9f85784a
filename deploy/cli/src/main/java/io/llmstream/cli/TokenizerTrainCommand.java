package io.llmstream.cli;

import io.llmstream.stream.ingest.DocumentFiles;
import io.llmstream.tokenizer.BpeTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llmstream tokenizer-train}: learns a byte-level BPE vocabulary from files and writes it as tokenizer.json.
 * Files are read one at a time (as {@code ingest} reads them), so the corpus never has to fit in memory.
 */
@Command(name = "tokenizer-train", mixinStandardHelpOptions = true,
        description = {"Learn a byte-level BPE tokenizer from files and write a HuggingFace tokenizer.json",
                "(the same ids here and in HuggingFace tokenizers). Deterministic for the same input."})
public final class TokenizerTrainCommand implements Callable<Integer> {
    @Option(names = "--vocab-size", required = true, paramLabel = "N", description = "Tokens in all: 256 bytes, the merges, the special tokens.")
    int vocabSize;

    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "PATH",
            description = "Files, directories (walked recursively) or .jsonl files (their \"text\" fields).")
    List<Path> input;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The tokenizer.json to write.")
    Path out;

    @Option(names = "--pattern", defaultValue = "gpt2", paramLabel = "gpt2|cl100k|REGEX",
            description = "Pre-tokenization: GPT-2's pattern, cl100k's, or a regex of your own (default: ${DEFAULT-VALUE}).")
    String pattern;

    @Option(names = "--special", paramLabel = "TOKEN", description = "A special token; repeatable (default: <|endoftext|>).")
    List<String> special = new ArrayList<>(List.of("<|endoftext|>"));

    @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "N", description = "Pairs seen fewer times are never merged (default: ${DEFAULT-VALUE}).")
    int minFrequency;

    @Override
    public Integer call() throws IOException {
        String regex = switch (pattern) {
            case "gpt2" -> BpeTrainer.GPT2_PATTERN;
            case "cl100k" -> BpeTrainer.CL100K_PATTERN;
            default -> pattern;
        };
        BpeTrainer trainer = BpeTrainer.builder().vocabSize(vocabSize).pattern(regex).specialTokens(special)
                .minFrequency(minFrequency).build();
        DocumentFiles files = new DocumentFiles(input);
        BpeTrainer.Result result = trainer.train(texts(files));
        result.writeJson(out);
        System.err.printf("tokenizer-train: %d tokens (%d merges) from %d files -> %s%n",
                result.tokenizer().vocabSize(), result.merges(), files.files().size(), out);
        return 0;
    }

    /** The texts of every document, one file in memory at a time. */
    private static Iterator<String> texts(DocumentFiles files) {
        Iterator<Path> paths = files.files().iterator();
        return new Iterator<>() {
            private Iterator<String> current = List.<String>of().iterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && paths.hasNext()) {
                    List<String> texts = new ArrayList<>();
                    try {
                        files.read(paths.next(), doc -> texts.add(doc.getText()));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    current = texts.iterator();
                }
                return current.hasNext();
            }

            @Override
            public String next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return current.next();
            }
        };
    }
}
