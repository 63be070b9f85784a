package io.llmstream.schemas;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** Realistic instances of every record, once with every optional field set and once with the minimum. */
public final class SampleRecords {
    private SampleRecords() {}

    public static Document document() {
        return Document.newBuilder()
                .setId("doc-0001")
                .setText("Kafka is a distributed event streaming platform. — ünïcødé ✓")
                .setSource("file:///corpus/en/kafka.txt")
                .setAttributes(Map.of("lang", "en", "license", "CC-BY-4.0"))
                .setCreatedAt(Instant.ofEpochMilli(1_767_225_600_123L))
                .build();
    }

    public static Document minimalDocument() {
        return Document.newBuilder().setId("doc-0002").setText("").build();
    }

    public static TokenizedDocument tokenizedDocument() {
        return TokenizedDocument.newBuilder()
                .setId("doc-0001")
                .setTokenizer(TokenizerRef.newBuilder().setName("cl100k_base").setFingerprint("sha256:9b5ad71b2ce5").build())
                .setIds(List.of(42, 100_256, 0, 7, 99_999))
                .setCharCount(61)
                .setByteCount(68)
                .build();
    }

    public static TrainingWindow trainingWindow() {
        return TrainingWindow.newBuilder()
                .setTokenizerFingerprint("sha256:9b5ad71b2ce5")
                .setTokens(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9))
                .setDocumentIds(List.of("doc-0001", "doc-0002"))
                .setSplit(Split.VALIDATION)
                .setLossMask(List.of(false, false, false, true, true, true, true, true))
                .build();
    }

    public static InferenceRequest inferenceRequest() {
        return InferenceRequest.newBuilder()
                .setRequestId("req-17")
                .setDocumentId("doc-0001")
                .setTask(Task.CLASSIFY)
                .setPromptIds(List.of(15, 16, 17))
                .setLabels(List.of("positive", "negative"))
                .setParams(GenerationParams.newBuilder()
                        .setMaxNewTokens(32).setTemperature(0.7f).setTopK(40).setTopP(0.95f).setSeed(1234L)
                        .setStopIds(List.of(50_256)).build())
                .setModel("tiny-gpt:3")
                .setTokenizerFingerprint("sha256:9b5ad71b2ce5")
                .build();
    }

    public static InferenceRequest minimalInferenceRequest() {
        return InferenceRequest.newBuilder()
                .setRequestId("req-18")
                .setPromptIds(List.of(15))
                .setTokenizerFingerprint("sha256:9b5ad71b2ce5")
                .build();
    }

    public static InferenceResult inferenceResult() {
        return InferenceResult.newBuilder()
                .setRequestId("req-17")
                .setDocumentId("doc-0001")
                .setStatus(ResultStatus.OK)
                .setModel(ModelRef.newBuilder().setName("tiny-gpt").setVersion("3").build())
                .setOutputIds(List.of(31, 32))
                .setText("positive")
                .setFinishReason(FinishReason.EOS)
                .setLabel("positive")
                .setLabelScores(Map.of("positive", -0.105, "negative", -2.302))
                .setPromptTokens(3)
                .setGeneratedTokens(2)
                .setPromptTruncated(true)
                .setQueueMillis(12)
                .setComputeMillis(48)
                .build();
    }

    public static InferenceResult errorResult() {
        return InferenceResult.newBuilder()
                .setRequestId("req-19")
                .setStatus(ResultStatus.ERROR)
                .setError("tokenizer fingerprint sha256:aaaa does not match the model's sha256:9b5ad71b2ce5")
                .setModel(ModelRef.newBuilder().setName("tiny-gpt").setVersion("3").build())
                .setFinishReason(FinishReason.ERROR)
                .build();
    }

    public static ModelPublished modelPublished() {
        return ModelPublished.newBuilder()
                .setName("tiny-gpt")
                .setVersion("3")
                .setUri("file:///models/tiny-gpt/3/")
                .setFiles(Map.of("model.onnx", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        "tokenizer.json", "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"))
                .setTokenizerFingerprint("sha256:9b5ad71b2ce5")
                .setArchitecture(ModelArchitecture.newBuilder().setVocabSize(100_277).setContextLength(256)
                        .setLayers(4).setHeads(4).setKvHeads(2).setDModel(128).setDFF(512).build())
                .setMetrics(Map.of("train_loss", 3.21, "val_loss", 3.35))
                .setCreatedAt(Instant.ofEpochMilli(1_767_225_600_000L))
                .build();
    }

    /** Every sample, keyed by a label for test names. */
    public static Map<String, SpecificRecord> all() {
        return Map.of(
                "Document", document(),
                "Document (minimal)", minimalDocument(),
                "TokenizedDocument", tokenizedDocument(),
                "TrainingWindow", trainingWindow(),
                "InferenceRequest", inferenceRequest(),
                "InferenceRequest (minimal)", minimalInferenceRequest(),
                "InferenceResult", inferenceResult(),
                "InferenceResult (error)", errorResult(),
                "ModelPublished", modelPublished());
    }
}
