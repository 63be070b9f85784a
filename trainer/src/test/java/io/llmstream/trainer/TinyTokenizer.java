package io.llmstream.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A byte-level BPE tokenizer.json without merges: ids 0..255 are bytes, 256 is {@code <|endoftext|>}. */
public final class TinyTokenizer {

    static final int EOS = 256;

    private TinyTokenizer() {}

    public static Path write(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        ObjectNode eos = root.putArray("added_tokens").addObject();
        eos.put("id", EOS).put("content", "<|endoftext|>").put("special", true).put("single_word", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", false);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        int[] unicode = byteToUnicode();
        for (int b = 0; b < 256; b++) {
            vocab.put(new String(Character.toChars(unicode[b])), b);
        }
        model.putArray("merges");
        json.writeValue(file.toFile(), root);
        return file;
    }

    /** GPT-2's printable stand-in for every byte: printable Latin-1 bytes stand for themselves, the rest from U+0100 up. */
    private static int[] byteToUnicode() {
        List<Integer> printable = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) {
                printable.add(b);
            }
        }
        int[] unicode = new int[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            unicode[b] = printable.contains(b) ? b : next++;
        }
        return unicode;
    }
}
