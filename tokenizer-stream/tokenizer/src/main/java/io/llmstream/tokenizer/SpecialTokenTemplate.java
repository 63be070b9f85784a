package io.llmstream.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;

/**
 * The special tokens a tokenizer.json's post-processor puts around one encoded text ({@code TemplateProcessing}'s
 * {@code single} template, alone or inside a {@code Sequence}): {@code <s> $A} for Llama-2 and Mistral,
 * {@code <|begin_of_text|> $A} for Llama-3; nothing for GPT-2's {@code ByteLevel} post-processor.
 */
record SpecialTokenTemplate(int[] before, int[] after) {
    static final SpecialTokenTemplate NONE = new SpecialTokenTemplate(new int[0], new int[0]);

    static SpecialTokenTemplate read(JsonNode postProcessor) {
        String type = postProcessor.path("type").asText("");
        if (type.equals("Sequence")) {
            for (JsonNode p : postProcessor.path("processors")) {
                if (p.path("type").asText().equals("TemplateProcessing")) {
                    return read(p);
                }
            }
            return NONE;
        }
        if (!type.equals("TemplateProcessing")) {
            return NONE;
        }
        IntList before = new IntList(2);
        IntList after = new IntList(2);
        boolean seen = false;
        for (JsonNode piece : postProcessor.path("single")) {
            if (piece.has("Sequence")) {
                seen = true;
                continue;
            }
            String name = piece.path("SpecialToken").path("id").asText();
            JsonNode ids = postProcessor.path("special_tokens").path(name).path("ids");
            if (!ids.isArray()) {
                throw new IllegalArgumentException("post_processor: the template names " + name
                        + ", which its special_tokens do not define");
            }
            for (JsonNode id : ids) {
                (seen ? after : before).add(id.asInt());
            }
        }
        return new SpecialTokenTemplate(before.toArray(), after.toArray());
    }

    boolean isEmpty() {
        return before.length == 0 && after.length == 0;
    }

    int[] apply(int[] ids) {
        if (isEmpty()) {
            return ids;
        }
        int[] out = new int[before.length + ids.length + after.length];
        System.arraycopy(before, 0, out, 0, before.length);
        System.arraycopy(ids, 0, out, before.length, ids.length);
        System.arraycopy(after, 0, out, before.length + ids.length, after.length);
        return out;
    }

    @Override
    public String toString() {
        return "template" + Arrays.toString(before) + "$A" + Arrays.toString(after);
    }
}
