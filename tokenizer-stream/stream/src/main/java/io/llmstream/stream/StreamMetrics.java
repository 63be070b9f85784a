package io.llmstream.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** The application's own meters; Kafka Streams' metrics are bound to the same registry beside them. */
public final class StreamMetrics {
    final Counter documents;
    final Counter emptyDocuments;
    final Counter tokens;
    final Counter bytes;
    final Counter windows;
    final Counter requests;
    final Counter deadLetters;
    final Timer tokenizeLatency;

    public StreamMetrics(MeterRegistry registry) {
        documents = Counter.builder("llmstream.stream.documents").description("documents tokenized").register(registry);
        emptyDocuments = Counter.builder("llmstream.stream.empty.documents").description("documents with empty text").register(registry);
        tokens = Counter.builder("llmstream.stream.tokens").description("token ids emitted").register(registry);
        bytes = Counter.builder("llmstream.stream.bytes").description("UTF-8 bytes of text tokenized").register(registry);
        windows = Counter.builder("llmstream.stream.windows").description("training windows emitted").register(registry);
        requests = Counter.builder("llmstream.stream.requests").description("inference requests emitted").register(registry);
        deadLetters = Counter.builder("llmstream.stream.dead.letters").description("records sent to the dead-letter topic").register(registry);
        tokenizeLatency = Timer.builder("llmstream.stream.tokenize.latency").description("time to tokenize one document")
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    public double deadLetterCount() {
        return deadLetters.count();
    }

    /** Time spent tokenizing so far, all documents together. */
    public double tokenizeSeconds() {
        return tokenizeLatency.totalTime(TimeUnit.SECONDS);
    }
}
