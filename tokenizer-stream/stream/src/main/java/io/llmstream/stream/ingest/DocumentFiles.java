package io.llmstream.stream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.schemas.Document;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Documents from files, as {@code llmstream ingest} and {@code llmstream demo --input} read them: a plain file is one
 * document (id = its path relative to the argument it was found under); a {@code .jsonl} file holds one document per
 * line ({@code id}, {@code text}, optional {@code source} and {@code attributes}).
 */
public final class DocumentFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Path> roots;
    private final List<Path> files = new ArrayList<>();

    /** The regular files under {@code roots} (files or directories walked recursively), in sorted order. */
    public DocumentFiles(List<Path> roots) throws IOException {
        this.roots = List.copyOf(roots);
        for (Path root : roots) {
            if (!Files.exists(root)) {
                throw new IllegalArgumentException("no such file or directory: " + root);
            }
            try (Stream<Path> walk = Files.walk(root)) {
                walk.filter(Files::isRegularFile).sorted().forEach(files::add);
            }
        }
    }

    public List<Path> files() {
        return List.copyOf(files);
    }

    /** Passes each document of {@code file} to {@code sink}; returns how many. A bad JSONL line names file and line. */
    public long read(Path file, Consumer<Document> sink) throws IOException {
        if (!file.getFileName().toString().endsWith(".jsonl")) {
            sink.accept(new Document(idOf(file), Files.readString(file, StandardCharsets.UTF_8), file.toString(), Map.of(), null));
            return 1;
        }
        long read = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (!line.isBlank()) {
                    sink.accept(parseLine(line, file, lineNo));
                    read++;
                }
            }
        }
        return read;
    }

    static Document parseLine(String line, Path file, int lineNo) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": not JSON: " + e.getOriginalMessage());
        }
        if (!node.hasNonNull("id") || !node.hasNonNull("text")) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": a document needs \"id\" and \"text\"");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        node.path("attributes").fields().forEachRemaining(e -> attributes.put(e.getKey(), e.getValue().asText()));
        String source = node.hasNonNull("source") ? node.get("source").asText() : file.toString();
        return new Document(node.get("id").asText(), node.get("text").asText(), source, attributes, null);
    }

    private String idOf(Path file) {
        for (Path root : roots) {
            if (file.startsWith(root) && !file.equals(root)) {
                return root.relativize(file).toString();
            }
        }
        return file.getFileName().toString();
    }
}
