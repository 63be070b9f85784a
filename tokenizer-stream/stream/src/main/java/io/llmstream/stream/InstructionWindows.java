package io.llmstream.stream;

import io.llmstream.schemas.Document;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.Split;
import io.llmstream.schemas.TrainingWindow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * Instruction tuning: a document's text is a prompt, an attribute its response. One window each: the prompt as the
 * request prompts are built (at most T - 1 ids, so some response always fits), the reply after it, cut at T + 1 ids
 * or padded with the separator. Its loss mask keeps the reply's targets only, so the model learns to answer and is
 * never trained to write prompts or padding.
 */
final class InstructionWindows implements FixedKeyProcessor<String, Document, TrainingWindow> {

    /**
     * @param prompts      builds prompts within T - 1 ids and the replies to them
     * @param attribute    the attribute holding the response
     * @param separator    ends a plain reply and pads the window
     * @param length       T
     * @param fingerprint  the tokenizer's, stamped on every window
     */
    record Format(PromptBuilder prompts, String attribute, int separator, int length, SplitAssigner splits,
                  String fingerprint) {

        /** The window's T + 1 ids and T loss flags (flag i for target ids[i + 1]). */
        Example example(String prompt, String response) {
            int[] promptIds = prompts.build(prompt).ids();
            int[] reply = prompts.reply(response, separator);
            int[] ids = new int[length + 1];
            Arrays.fill(ids, separator);
            System.arraycopy(promptIds, 0, ids, 0, promptIds.length);
            int replyLength = Math.min(reply.length, ids.length - promptIds.length);
            System.arraycopy(reply, 0, ids, promptIds.length, replyLength);
            List<Boolean> mask = new ArrayList<>(length);
            for (int target = 1; target <= length; target++) {
                mask.add(target >= promptIds.length && target < promptIds.length + replyLength);
            }
            return new Example(ids, mask);
        }
    }

    record Example(int[] ids, List<Boolean> lossMask) {}

    private final Format format;
    private final StreamMetrics metrics;
    private FixedKeyProcessorContext<String, TrainingWindow> context;

    InstructionWindows(Format format, StreamMetrics metrics) {
        this.format = format;
        this.metrics = metrics;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, TrainingWindow> context) {
        this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, Document> record) {
        Document doc = record.value();
        Example example = format.example(doc.getText(), doc.getAttributes().get(format.attribute()));
        Split split = format.splits().isValidation(doc.getId()) ? Split.VALIDATION : Split.TRAIN;
        metrics.windows.increment();
        context.forward(record.withValue(new TrainingWindow(format.fingerprint(), IntLists.of(example.ids()),
                List.of(doc.getId()), split, example.lossMask())));
    }
}
