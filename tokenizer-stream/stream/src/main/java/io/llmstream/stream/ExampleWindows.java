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
 * Fine-tuning examples, one window each, their text a prompt built as the request prompts are:
 * <ul>
 *   <li><b>instruction</b> (an attribute holds the response): the prompt (at most T - 1 ids, so some response always
 *       fits), the reply after it, cut at T + 1 ids or padded with the separator; the loss mask keeps the reply's
 *       targets only, so the model learns to answer and is never trained to write prompts or padding;</li>
 *   <li><b>classification</b> (an attribute holds the label, which wins when both are there): the prompt (at most T
 *       ids) padded with the separator, labelled, the mask flagging the prompt's last position, whose hidden state the
 *       trainer's classification head reads, as the worker's CLASSIFY reads it for the same prompt.</li>
 * </ul>
 */
final class ExampleWindows implements FixedKeyProcessor<String, Document, TrainingWindow> {

    /**
     * @param replies           builds prompts within T - 1 ids and the replies to them; null without instructions
     * @param classified        builds prompts within T ids; null without classification
     * @param responseAttribute the attribute holding an instruction's response; empty for none
     * @param labelAttribute    the attribute holding a classification example's label; empty for none
     * @param separator         ends a plain reply and pads the window
     * @param length            T
     * @param fingerprint       the tokenizer's, stamped on every window
     */
    record Format(PromptBuilder replies, PromptBuilder classified, String responseAttribute, String labelAttribute,
                  int separator, int length, SplitAssigner splits, String fingerprint) {

        /** The window's T + 1 ids and T loss flags (flag i for target ids[i + 1]). */
        Example example(String prompt, String response) {
            int[] promptIds = replies.build(prompt).ids();
            int[] reply = replies.reply(response, separator);
            int[] ids = padded(promptIds);
            int replyLength = Math.min(reply.length, ids.length - promptIds.length);
            System.arraycopy(reply, 0, ids, promptIds.length, replyLength);
            List<Boolean> mask = new ArrayList<>(length);
            for (int target = 1; target <= length; target++) {
                mask.add(target >= promptIds.length && target < promptIds.length + replyLength);
            }
            return new Example(ids, mask, null);
        }

        /** The prompt's ids padded to T + 1, flag {@code prompt length - 1} set. */
        Example labelled(String prompt, String label) {
            int[] promptIds = classified.build(prompt).ids();
            List<Boolean> mask = new ArrayList<>(length);
            for (int position = 0; position < length; position++) {
                mask.add(position == promptIds.length - 1);
            }
            return new Example(padded(promptIds), mask, label);
        }

        private int[] padded(int[] promptIds) {
            int[] ids = new int[length + 1];
            Arrays.fill(ids, separator);
            System.arraycopy(promptIds, 0, ids, 0, promptIds.length);
            return ids;
        }
    }

    record Example(int[] ids, List<Boolean> lossMask, String label) {}

    private final Format format;
    private final StreamMetrics metrics;
    private FixedKeyProcessorContext<String, TrainingWindow> context;

    ExampleWindows(Format format, StreamMetrics metrics) {
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
        String label = format.labelAttribute().isEmpty() ? null : doc.getAttributes().get(format.labelAttribute());
        Example example = label != null ? format.labelled(doc.getText(), label)
                : format.example(doc.getText(), doc.getAttributes().get(format.responseAttribute()));
        Split split = format.splits().isValidation(doc.getId()) ? Split.VALIDATION : Split.TRAIN;
        metrics.windows.increment();
        context.forward(record.withValue(new TrainingWindow(format.fingerprint(), IntLists.of(example.ids()),
                List.of(doc.getId()), split, example.lossMask(), example.label())));
    }
}
