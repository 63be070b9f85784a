package io.llmstream.stream;

import io.llmstream.schemas.Document;
import io.llmstream.schemas.Split;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Packed training windows as system tests compare them: by input partition and split, in order. */
final class PackedWindows {
    private PackedWindows() {}

    /**
     * What an uninterrupted run makes of these documents: per partition and split, the documents' ids joined with the
     * separator, cut every {@code length} ids into windows of {@code length + 1}.
     */
    static Map<String, List<List<Integer>>> expected(List<ConsumerRecord<String, Document>> documents,
                                                     Tokenizer tokenizer, int length, SplitAssigner splits) {
        int eos = tokenizer.specialTokenId("<|endoftext|>").orElseThrow();
        Map<String, List<Integer>> pending = new TreeMap<>();
        Map<String, List<List<Integer>>> windows = new TreeMap<>();
        for (ConsumerRecord<String, Document> r : documents) {
            Split split = splits.isValidation(r.key()) ? Split.VALIDATION : Split.TRAIN;
            String side = r.partition() + "/" + split;
            List<Integer> buffer = pending.computeIfAbsent(side, k -> new ArrayList<>());
            Arrays.stream(tokenizer.encode(r.value().getText())).forEach(buffer::add);
            buffer.add(eos);
            while (buffer.size() >= length + 1) {
                windows.computeIfAbsent(side, k -> new ArrayList<>()).add(new ArrayList<>(buffer.subList(0, length + 1)));
                buffer.subList(0, length).clear();
            }
        }
        return windows;
    }

    /** The windows a run wrote, grouped as {@link #expected} groups them. */
    static Map<String, List<List<Integer>>> byPartition(List<ConsumerRecord<String, TrainingWindow>> windows) {
        Map<String, List<List<Integer>>> grouped = new TreeMap<>();
        for (ConsumerRecord<String, TrainingWindow> r : windows) {
            grouped.computeIfAbsent(r.partition() + "/" + r.value().getSplit(), k -> new ArrayList<>())
                    .add(new ArrayList<>(r.value().getTokens()));
        }
        return grouped;
    }
}
