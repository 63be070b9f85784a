package io.llmstream.trainer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Windows from a JSON Lines file, one per line: {@code {"tokens":[12,7,...],"split":"TRAIN"}} ({@code split} defaults
 * to TRAIN; an optional {@code "lossMask":[false,true,...]} keeps only some targets, as on the topic, and an optional
 * {@code "label"} makes the window a classification example whose mask flags the position the head reads; blank lines
 * are skipped). With {@code repeat} the file is read again from the top at its end. The position
 * counts windows handed out, so it stays valid across repeats.
 */
public final class JsonlWindowSource implements WindowSource {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final boolean repeat;
    private final String key;
    private BufferedReader reader;
    private long lineNumber;
    private long consumed;

    public JsonlWindowSource(Path file, boolean repeat) throws IOException {
        this.file = file;
        this.repeat = repeat;
        this.key = file.getFileName().toString();
        reopen();
    }

    @Override
    public Optional<Window> next() throws IOException {
        boolean rewound = false;
        while (true) {
            String line = reader.readLine();
            if (line == null) {
                if (!repeat || rewound) {
                    return Optional.empty(); // the end, or a file without a single window
                }
                reopen();
                rewound = true;
                continue;
            }
            lineNumber++;
            if (!line.isBlank()) {
                consumed++;
                return Optional.of(parse(line));
            }
        }
    }

    @Override
    public Map<String, Long> position() {
        return Map.of(key, consumed);
    }

    @Override
    public void seek(Map<String, Long> position) throws IOException {
        long target = position.getOrDefault(key, 0L);
        reopen();
        consumed = 0;
        while (consumed < target && next().isPresent()) {
            // skip what was consumed before
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }

    private void reopen() throws IOException {
        if (reader != null) {
            reader.close();
        }
        reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        lineNumber = 0;
    }

    private Window parse(String line) throws IOException {
        String origin = key + ":" + lineNumber;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IOException(origin + ": not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode tokens = node.get("tokens");
        if (tokens == null || !tokens.isArray()) {
            throw new IOException(origin + ": no \"tokens\" array");
        }
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!tokens.get(i).isIntegralNumber() || !tokens.get(i).canConvertToInt()) {
                throw new IOException(origin + ": token " + i + " is not an int: " + tokens.get(i));
            }
            ids[i] = tokens.get(i).intValue();
        }
        boolean[] lossMask = null;
        JsonNode mask = node.get("lossMask");
        if (mask != null && !mask.isNull()) {
            if (!mask.isArray()) {
                throw new IOException(origin + ": \"lossMask\" is not an array of booleans");
            }
            lossMask = new boolean[mask.size()];
            for (int i = 0; i < lossMask.length; i++) {
                if (!mask.get(i).isBoolean()) {
                    throw new IOException(origin + ": lossMask " + i + " is not a boolean: " + mask.get(i));
                }
                lossMask[i] = mask.get(i).booleanValue();
            }
        }
        JsonNode label = node.get("label");
        if (label != null && !label.isNull() && !label.isTextual()) {
            throw new IOException(origin + ": \"label\" is not a string: " + label);
        }
        JsonNode split = node.get("split");
        try {
            return new Window(ids, lossMask, label == null || label.isNull() ? null : label.asText(), split == null ? Window.Split.TRAIN : Window.Split.valueOf(split.asText()),
                    origin);
        } catch (IllegalArgumentException e) {
            throw new IOException(origin + ": unknown split " + split);
        }
    }
}
