package io.llmstream.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** The documents a benchmark runs on: a directory (one document per file), a text file cut into documents, or synthetic text. */
public final class BenchCorpus {
    private static final int DOCUMENT_CHARS = 4096;

    private BenchCorpus() {}

    public static List<String> load(Path path, long maxBytes) {
        List<String> docs = new ArrayList<>();
        long bytes = 0;
        try {
            if (Files.isDirectory(path)) {
                try (Stream<Path> files = Files.walk(path)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                        String text = Files.readString(f, StandardCharsets.UTF_8);
                        docs.add(text);
                        if ((bytes += text.length()) >= maxBytes) {
                            break;
                        }
                    }
                }
            } else {
                String all = Files.readString(path, StandardCharsets.UTF_8);
                for (int start = 0; start < all.length() && bytes < maxBytes; ) {
                    int end = Math.min(all.length(), start + DOCUMENT_CHARS);
                    int newline = all.indexOf('\n', end);
                    end = newline < 0 ? all.length() : newline + 1;
                    docs.add(all.substring(start, end));
                    bytes += end - start;
                    start = end;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read corpus " + path, e);
        }
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("corpus " + path + " has no text");
        }
        return docs;
    }

    /** English-like prose from a fixed word list and seed: the same on every machine. */
    public static List<String> synthetic(int documents, long seed) {
        String[] words = ("the of and to in is that for it as was with be by on not he this are or his from at which but "
                + "have an they you were their one all we can her has there been if more when will would who so no stream "
                + "kafka token model training window inference request partition offset exactly once schema registry "
                + "broker consumer producer transaction 2026 42 3.14 don't it's we'll they're").split(" ");
        Random random = new Random(seed);
        List<String> docs = new ArrayList<>(documents);
        for (int d = 0; d < documents; d++) {
            StringBuilder text = new StringBuilder(DOCUMENT_CHARS + 64);
            while (text.length() < DOCUMENT_CHARS) {
                String w = words[random.nextInt(words.length)];
                text.append(text.length() == 0 || random.nextInt(12) == 0 ? capitalize(w) : w);
                text.append(random.nextInt(15) == 0 ? ".\n" : random.nextInt(10) == 0 ? ", " : " ");
            }
            docs.add(text.toString());
        }
        return docs;
    }

    private static String capitalize(String w) {
        return Character.toUpperCase(w.charAt(0)) + w.substring(1);
    }

    public static long utf8Bytes(List<String> docs) {
        long n = 0;
        for (String d : docs) {
            n += d.getBytes(StandardCharsets.UTF_8).length;
        }
        return n;
    }
}
