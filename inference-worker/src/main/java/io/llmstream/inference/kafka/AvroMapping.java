package io.llmstream.inference.kafka;

import io.llmstream.inference.engine.Classification;
import io.llmstream.inference.engine.Generation;
import io.llmstream.inference.engine.Job;
import io.llmstream.inference.engine.Outcome;
import io.llmstream.inference.engine.Sampling;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.schemas.FinishReason;
import io.llmstream.schemas.GenerationParams;
import io.llmstream.schemas.InferenceRequest;
import io.llmstream.schemas.InferenceResult;
import io.llmstream.schemas.IntLists;
import io.llmstream.schemas.ModelRef;
import io.llmstream.schemas.ResultStatus;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** The worker's Avro mapping: an {@code InferenceRequest} to the engine's {@link Job}, an {@link Outcome} to its
 * {@code InferenceResult}. */
final class AvroMapping {
    private AvroMapping() {}

    /**
     * The engine's job for a request, checked against the model it was bound to.
     *
     * @throws IllegalArgumentException with the reason, when the model cannot serve it
     */
    static Job<Ticket> job(Ticket ticket, DecoderModel model) {
        InferenceRequest request = ticket.request();
        String fingerprint = model.tokenizer().fingerprint();
        if (!fingerprint.equals(request.getTokenizerFingerprint())) {
            throw new IllegalArgumentException("the prompt was tokenized with tokenizer " + request.getTokenizerFingerprint()
                    + " but " + model.id() + " uses " + fingerprint);
        }
        int[] prompt = IntLists.toArray(request.getPromptIds());
        if (request.getTask() == io.llmstream.schemas.Task.CLASSIFY) {
            return Job.classify(ticket, model, prompt, request.getLabels()); // without labels: the head's, if any
        }
        GenerationParams p = request.getParams();
        long seed = p.getSeed() != null ? p.getSeed() : seedOf(request.getRequestId());
        Sampling sampling = new Sampling(p.getMaxNewTokens(), p.getTemperature(), p.getTopK(), p.getTopP(), seed,
                IntLists.toArray(p.getStopIds()));
        return Job.generate(ticket, model, prompt, sampling);
    }

    /** Without a seed, one derived from the request id: a redone request samples the same tokens. */
    private static long seedOf(String requestId) {
        return UUID.nameUUIDFromBytes(requestId.getBytes(StandardCharsets.UTF_8)).getMostSignificantBits();
    }

    static InferenceResult result(Outcome<Ticket> o) {
        InferenceRequest request = o.job().tag().request();
        ModelRef model = new ModelRef(o.job().model().name(), o.job().model().version());
        if (!o.ok()) {
            return error(request, model, o.error());
        }
        InferenceResult.Builder b = InferenceResult.newBuilder()
                .setRequestId(request.getRequestId())
                .setDocumentId(request.getDocumentId())
                .setStatus(ResultStatus.OK)
                .setModel(model)
                .setQueueMillis(Math.max(0, o.startedMillis() - o.job().tag().timestamp()))
                .setComputeMillis(TimeUnit.NANOSECONDS.toMillis(o.computeNanos()));
        if (o.generation() != null) {
            Generation g = o.generation();
            return b.setOutputIds(IntLists.of(g.outputIds())).setText(g.text()).setFinishReason(g.finishReason())
                    .setPromptTokens(g.promptTokens()).setGeneratedTokens(g.outputIds().length)
                    .setPromptTruncated(g.promptTruncated()).build();
        }
        Classification c = o.classification();
        // A classification generates nothing: it ends like a completed generation.
        return b.setFinishReason(FinishReason.EOS).setLabel(c.label()).setLabelScores(c.probabilities())
                .setPromptTokens(c.promptTokens()).setPromptTruncated(c.promptTruncated()).build();
    }

    static InferenceResult error(InferenceRequest request, ModelRef model, String reason) {
        return InferenceResult.newBuilder()
                .setRequestId(request.getRequestId())
                .setDocumentId(request.getDocumentId())
                .setStatus(ResultStatus.ERROR)
                .setError(reason)
                .setModel(model)
                .setFinishReason(FinishReason.ERROR)
                .build();
    }

    /** The model that served, or would have: the resolved one, else the pinned name and version, else the current. */
    static ModelRef modelRef(InferenceRequest request, DecoderModel resolved, DecoderModel current) {
        if (resolved != null) {
            return new ModelRef(resolved.name(), resolved.version());
        }
        String pin = request.getModel();
        if (pin != null && !pin.isBlank()) {
            int colon = pin.lastIndexOf(':');
            return colon < 0 ? new ModelRef(pin, "") : new ModelRef(pin.substring(0, colon), pin.substring(colon + 1));
        }
        return current == null ? new ModelRef("", "") : new ModelRef(current.name(), current.version());
    }
}
