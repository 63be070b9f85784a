package io.llmstream.stream;

import io.llmstream.schemas.Document;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.GenerationParams;
import io.llmstream.schemas.InferenceRequest;
import io.llmstream.schemas.Split;
import io.llmstream.schemas.Task;
import io.llmstream.schemas.TokenizedDocument;
import io.llmstream.schemas.TokenizerRef;
import io.llmstream.schemas.TrainingWindow;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.serde.AvroSerde;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.chat.ChatTemplate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The tokenizer-stream topology: documents → validate → tokenize → {@code tokens}, and from there training windows
 * (per document or packed) → {@code training-windows}; fine-tuning examples (a prompt and a response, or a labelled
 * document) → one masked window each → {@code training-windows}; validated documents → prompt → {@code inference-requests}.
 * Refused documents throw {@link InvalidDocumentException}, which the processing-exception handler turns into a
 * dead-letter record, so every non-empty input ends in exactly one of tokens or dead-letters; an empty one is counted
 * and dropped under {@code empty.text=skip} (the default), or dead-lettered under {@code empty.text=dead-letter}.
 */
public final class TokenizerTopology {
    public static final String PACKING_STORE = "packing-buffer";

    private TokenizerTopology() {}

    public static Topology build(StreamSettings settings, Tokenizer tokenizer, SchemaRegistryClient registry,
                                 StreamMetrics metrics) {
        Serde<String> keys = Serdes.String();
        StreamsBuilder builder = new StreamsBuilder();
        TokenizerRef tokenizerRef = new TokenizerRef(tokenizer.name(), tokenizer.fingerprint());

        KStream<String, Document> documents = builder
                .stream(settings.documentsTopic(),
                        Consumed.with(keys, AvroSerde.specific(Document.class, registry, false)).withName("documents-source"))
                .processValues(() -> new Validate(settings, metrics), Named.as("validate"));

        // fine-tuning examples (instructions, labelled documents) get a window of their own; every document's text
        // still goes to tokens
        StreamSettings.Windows w = settings.windows();
        KStream<String, Document> text = documents.filterNot((key, doc) -> w.isExample(doc.getAttributes()),
                Named.as("text-documents"));
        KStream<String, Document> examples = documents.filter((key, doc) -> w.isExample(doc.getAttributes()),
                Named.as("example-documents"));
        KStream<String, TokenizedDocument> tokens = text
                .processValues(() -> new Tokenize(tokenizer, tokenizerRef, metrics), Named.as("tokenize"));
        tokens.merge(examples.processValues(() -> new Tokenize(tokenizer, tokenizerRef, metrics),
                        Named.as("tokenize-example")), Named.as("all-tokens"))
                .to(settings.tokensTopic(), Produced.with(keys, AvroSerde.specific(TokenizedDocument.class, registry,
                        false)).withName("tokens-sink"));

        if (w.enabled()) {
            KStream<String, TrainingWindow> windows = windows(builder, settings, tokenizer, tokens, metrics);
            if (w.hasExamples()) {
                ExampleWindows.Format format = exampleFormat(settings, tokenizer);
                windows = windows.merge(examples.processValues(() -> new ExampleWindows(format, metrics),
                        Named.as("example-windows")), Named.as("all-windows"));
            }
            windows.to(settings.windowsTopic(), Produced.with(keys, AvroSerde.specific(TrainingWindow.class, registry,
                    false)).withName("windows-sink"));
        }
        if (settings.requests().enabled()) {
            PromptBuilder prompts = promptBuilder(settings.requests(), tokenizer);
            documents.processValues(() -> new BuildRequest(settings.requests(), prompts, tokenizer, metrics),
                            Named.as("build-request"))
                    .to(settings.requestsTopic(), Produced.with(keys, AvroSerde.specific(InferenceRequest.class, registry, false))
                            .withName("requests-sink"));
        }
        return builder.build();
    }

    private static KStream<String, TrainingWindow> windows(StreamsBuilder builder, StreamSettings settings,
                                                           Tokenizer tokenizer, KStream<String, TokenizedDocument> tokens,
                                                           StreamMetrics metrics) {
        StreamSettings.Windows w = settings.windows();
        int separator = separatorId(tokenizer, w.separatorToken());
        WindowSlicer slicer = new WindowSlicer(w.length(), w.stride(), w.tail(), separator);
        SplitAssigner splits = new SplitAssigner(w.validationFraction());
        if (w.mode() == StreamSettings.WindowMode.PACKED) {
            StoreBuilder<KeyValueStore<String, byte[]>> store = Stores.keyValueStoreBuilder(
                    Stores.persistentKeyValueStore(PACKING_STORE), Serdes.String(), Serdes.ByteArray());
            builder.addStateStore(store);
            return tokens.processValues(() -> new PackWindows(slicer, splits, separator, metrics), Named.as("pack-windows"),
                    PACKING_STORE);
        }
        return tokens.processValues(() -> new SliceWindows(slicer, splits, metrics), Named.as("slice-windows"));
    }

    /**
     * How example documents become windows: the request prompts, cut to leave an instruction's response room, or
     * within the window for a labelled document.
     */
    private static ExampleWindows.Format exampleFormat(StreamSettings settings, Tokenizer tokenizer) {
        StreamSettings.Windows w = settings.windows();
        int budget = settings.requests().maxPromptTokens();
        PromptBuilder replies = null;
        PromptBuilder classified = null;
        if (!w.responseAttribute().isEmpty()) {
            try {
                replies = promptBuilder(settings.requests(), tokenizer, Math.min(budget, w.length() - 1));
                replies.checkReplies();
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new IllegalArgumentException("windows.response.attribute=" + w.responseAttribute()
                        + " (instruction windows of windows.length=" + w.length() + "): " + e.getMessage(), e);
            }
        }
        if (!w.labelAttribute().isEmpty()) {
            try {
                classified = promptBuilder(settings.requests(), tokenizer, Math.min(budget, w.length()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("windows.label.attribute=" + w.labelAttribute()
                        + " (classification windows of windows.length=" + w.length() + "): " + e.getMessage(), e);
            }
        }
        return new ExampleWindows.Format(replies, classified, w.responseAttribute(), w.labelAttribute(),
                separatorId(tokenizer, w.separatorToken()), w.length(), new SplitAssigner(w.validationFraction()),
                tokenizer.fingerprint());
    }

    /** The prompt builder of the settings: plain, or chat mode with the template loaded here, at start. */
    static PromptBuilder promptBuilder(StreamSettings.Requests settings, Tokenizer tokenizer) {
        return promptBuilder(settings, tokenizer, settings.maxPromptTokens());
    }

    private static PromptBuilder promptBuilder(StreamSettings.Requests settings, Tokenizer tokenizer, int maxTokens) {
        PromptBuilder.Chat chat = null;
        if (!settings.chatTemplate().isEmpty()) {
            try {
                chat = new PromptBuilder.Chat(ChatTemplate.load(Path.of(settings.chatTemplate())), settings.chatSystem());
            } catch (IOException e) {
                throw new IllegalArgumentException("requests.chat.template: cannot read " + settings.chatTemplate()
                        + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("requests.chat.template: " + e.getMessage(), e);
            }
        }
        return new PromptBuilder(tokenizer, settings.template(), settings.labels(), maxTokens,
                settings.truncateSide(), chat);
    }

    /** The id of the separator: a special token's text, or a plain id. */
    static int separatorId(Tokenizer tokenizer, String token) {
        OptionalInt special = tokenizer.specialTokenId(token);
        if (special.isPresent()) {
            return special.getAsInt();
        }
        try {
            return Integer.parseInt(token);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("windows.separator '" + token + "' is neither a special token of "
                    + tokenizer.name() + " nor a token id");
        }
    }

    static String where(FixedKeyProcessorContext<?, ?> context) {
        return context.recordMetadata()
                .map(m -> m.topic() + "-" + m.partition() + "@" + m.offset())
                .orElse("(no source record)");
    }

    /** Refuses documents without text or over the size limit; passes the rest on unchanged. */
    static final class Validate implements FixedKeyProcessor<String, Document, Document> {
        private final StreamSettings settings;
        private final StreamMetrics metrics;
        private FixedKeyProcessorContext<String, Document> context;

        Validate(StreamSettings settings, StreamMetrics metrics) {
            this.settings = settings;
            this.metrics = metrics;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, Document> context) {
            this.context = context;
        }

        @Override
        public void process(FixedKeyRecord<String, Document> record) {
            Document doc = record.value();
            if (doc == null) {
                throw new InvalidDocumentException("record " + where(context) + " (key '" + record.key()
                        + "') has no value: expected a Document");
            }
            if (doc.getText().isEmpty()) {
                metrics.emptyDocuments.increment();
                if (settings.emptyText() == StreamSettings.EmptyText.SKIP) {
                    return;
                }
                throw new InvalidDocumentException("document '" + doc.getId() + "' at " + where(context) + " has empty text");
            }
            // a char is at most 3 UTF-8 bytes, so most documents need no count here
            boolean mayBeOver = 3L * doc.getText().length() > settings.maxDocumentBytes();
            if (mayBeOver && Utf8Length.of(doc.getText(), settings.maxDocumentBytes()) > settings.maxDocumentBytes()) {
                throw new InvalidDocumentException("document '" + doc.getId() + "' at " + where(context)
                        + " is over max.document.bytes=" + settings.maxDocumentBytes() + " (text of "
                        + doc.getText().length() + " chars)");
            }
            context.forward(record);
        }
    }

    /** Tokenizes a document's text into one TokenizedDocument. */
    static final class Tokenize implements FixedKeyProcessor<String, Document, TokenizedDocument> {
        private final Tokenizer tokenizer;
        private final TokenizerRef tokenizerRef;
        private final StreamMetrics metrics;
        private FixedKeyProcessorContext<String, TokenizedDocument> context;

        Tokenize(Tokenizer tokenizer, TokenizerRef tokenizerRef, StreamMetrics metrics) {
            this.tokenizer = tokenizer;
            this.tokenizerRef = tokenizerRef;
            this.metrics = metrics;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, TokenizedDocument> context) {
            this.context = context;
        }

        @Override
        public void process(FixedKeyRecord<String, Document> record) {
            Document doc = record.value();
            String text = doc.getText();
            long start = System.nanoTime();
            int[] ids = tokenizer.encode(text);
            metrics.tokenizeLatency.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
            int bytes = Utf8Length.of(text, Integer.MAX_VALUE);
            metrics.documents.increment();
            metrics.tokens.increment(ids.length);
            metrics.bytes.increment(bytes);
            context.forward(record.withValue(new TokenizedDocument(doc.getId(), tokenizerRef, IntLists.of(ids),
                    text.length(), bytes)));
        }
    }

    /** Per-document windows: each document cut on its own. */
    static final class SliceWindows implements FixedKeyProcessor<String, TokenizedDocument, TrainingWindow> {
        private final WindowSlicer slicer;
        private final SplitAssigner splits;
        private final StreamMetrics metrics;
        private FixedKeyProcessorContext<String, TrainingWindow> context;

        SliceWindows(WindowSlicer slicer, SplitAssigner splits, StreamMetrics metrics) {
            this.slicer = slicer;
            this.splits = splits;
            this.metrics = metrics;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, TrainingWindow> context) {
            this.context = context;
        }

        @Override
        public void process(FixedKeyRecord<String, TokenizedDocument> record) {
            TokenizedDocument doc = record.value();
            Split split = splits.isValidation(doc.getId()) ? Split.VALIDATION : Split.TRAIN;
            List<String> docIds = List.of(doc.getId());
            String fingerprint = doc.getTokenizer().getFingerprint();
            slicer.sliceDocument(IntLists.toArray(doc.getIds()), window -> {
                metrics.windows.increment();
                context.forward(record.withValue(new TrainingWindow(fingerprint, IntLists.of(window), docIds, split,
                        null, null)));
            });
        }
    }

    /**
     * Packed windows: documents appended to a per-partition buffer (one per split, so a document never lands on both
     * sides) with the separator after each; full windows leave the front of the buffer. The buffer lives in a state
     * store, so a restart resumes with the same pending ids.
     */
    static final class PackWindows implements FixedKeyProcessor<String, TokenizedDocument, TrainingWindow> {
        private final WindowSlicer slicer;
        private final SplitAssigner splits;
        private final int separator;
        private final StreamMetrics metrics;
        private FixedKeyProcessorContext<String, TrainingWindow> context;
        private KeyValueStore<String, byte[]> store;

        PackWindows(WindowSlicer slicer, SplitAssigner splits, int separator, StreamMetrics metrics) {
            this.slicer = slicer;
            this.splits = splits;
            this.separator = separator;
            this.metrics = metrics;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, TrainingWindow> context) {
            this.context = context;
            this.store = context.getStateStore(PACKING_STORE);
        }

        @Override
        public void process(FixedKeyRecord<String, TokenizedDocument> record) {
            TokenizedDocument doc = record.value();
            Split split = splits.isValidation(doc.getId()) ? Split.VALIDATION : Split.TRAIN;
            String fingerprint = doc.getTokenizer().getFingerprint();
            PackingBuffer buffer = PackingBuffer.fromBytes(store.get(split.name()));
            buffer.append(doc.getId(), IntLists.toArray(doc.getIds()), separator);
            List<int[]> windows = new ArrayList<>();
            int consumed = slicer.slicePacked(buffer.ids(), buffer.size(), windows::add);
            int start = 0;
            for (int[] window : windows) {
                List<String> docIds = buffer.documentsIn(start, start + window.length);
                start += slicer.stride();
                metrics.windows.increment();
                context.forward(record.withValue(new TrainingWindow(fingerprint, IntLists.of(window), docIds, split,
                        null, null)));
            }
            buffer.consume(consumed);
            store.put(split.name(), buffer.toBytes());
        }
    }

    /** Builds one inference request per document from the prompt template. */
    static final class BuildRequest implements FixedKeyProcessor<String, Document, InferenceRequest> {
        private final StreamSettings.Requests settings;
        private final PromptBuilder prompts;
        private final String fingerprint;
        private final StreamMetrics metrics;
        private FixedKeyProcessorContext<String, InferenceRequest> context;

        BuildRequest(StreamSettings.Requests settings, PromptBuilder prompts, Tokenizer tokenizer,
                     StreamMetrics metrics) {
            this.settings = settings;
            this.prompts = prompts;
            this.fingerprint = tokenizer.fingerprint();
            this.metrics = metrics;
        }

        @Override
        public void init(FixedKeyProcessorContext<String, InferenceRequest> context) {
            this.context = context;
        }

        @Override
        public void process(FixedKeyRecord<String, Document> record) {
            Document doc = record.value();
            PromptBuilder.Prompt prompt = prompts.build(doc.getText());
            boolean classify = settings.classify();
            GenerationParams params = new GenerationParams(settings.maxNewTokens(), settings.temperature(),
                    settings.topK(), settings.topP(), null, settings.stopIds());
            InferenceRequest request = InferenceRequest.newBuilder()
                    .setRequestId(doc.getId())
                    .setDocumentId(doc.getId())
                    .setTask(classify ? Task.CLASSIFY : Task.GENERATE)
                    .setPromptIds(IntLists.of(prompt.ids()))
                    .setLabels(classify && !settings.labels().isEmpty() ? settings.labels() : null)
                    .setParams(params)
                    .setModel(null)
                    .setTokenizerFingerprint(fingerprint)
                    .build();
            metrics.requests.increment();
            context.forward(record.withValue(request));
        }
    }
}
