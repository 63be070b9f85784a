package io.llmstream.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.llmstream.schemas.model.ModelFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a demo run did, counted from the topics themselves (committed records only).
 *
 * @param documents    documents produced: training documents plus held-out prompt documents
 * @param tokens       token ids on the tokens topic (every document, training and held out)
 * @param windows      training windows on the windows topic (train and validation)
 * @param requests     inference requests on the requests topic
 * @param results      inference results, at most one per request
 * @param errors       results with status ERROR
 * @param accuracy     share of held-out prompts answered correctly; null when the corpus is the user's files
 * @param stageSeconds wall-clock seconds per stage (stream and training overlap: the trainer reads windows as they come)
 * @param throughput   per stage: documents/s, tokens/s, generated tokens/s (results/s when nothing is generated)
 * @param samples      a few held-out prompts with what the model generated
 */
public record DemoSummary(long documents, long tokens, long windows, long trainSteps, double trainLoss, double valLoss,
                          long requests, long results, long errors, long generatedTokens, Double accuracy,
                          Map<String, Double> stageSeconds, Map<String, Double> throughput, String modelDir,
                          String bootstrap, String registry, DemoTopics topics, List<Sample> samples) {

    /** One held-out prompt and its generation; {@code correct} is null when it cannot be checked. */
    public record Sample(String prompt, String generated, Boolean correct) {}

    public DemoSummary {
        // copies that keep the stages in pipeline order
        stageSeconds = Collections.unmodifiableMap(new LinkedHashMap<>(stageSeconds));
        throughput = Collections.unmodifiableMap(new LinkedHashMap<>(throughput));
        samples = List.copyOf(samples);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The demo succeeded when every request got a result and none of them is an error. */
    public boolean complete() {
        return requests > 0 && results == requests && errors == 0;
    }

    /** The summary as one JSON object (the keys of {@code llmstream demo --json}). */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("documents", documents).put("tokens", tokens).put("windows", windows).put("trainSteps", trainSteps)
                .put("trainLoss", trainLoss).put("valLoss", valLoss).put("requests", requests).put("results", results)
                .put("errors", errors).put("generatedTokens", generatedTokens);
        if (accuracy == null) {
            o.putNull("accuracy");
        } else {
            o.put("accuracy", accuracy);
        }
        stageSeconds.forEach(o.putObject("stageSeconds")::put);
        throughput.forEach(o.putObject("throughput")::put);
        o.put("modelDir", modelDir).put("bootstrap", bootstrap).put("registry", registry);
        o.set("topics", JSON.valueToTree(topics));
        o.set("samples", JSON.valueToTree(samples));
        return o.toString();
    }

    /** The human summary: a table of counts and rates, where things are, sample generations. */
    public void print(PrintWriter out) {
        Map<String, String> rows = new LinkedHashMap<>();
        rows.put("documents", String.format(Locale.ROOT, "%,d", documents));
        rows.put("tokens", String.format(Locale.ROOT, "%,d", tokens));
        rows.put("training windows", String.format(Locale.ROOT, "%,d", windows));
        rows.put("training steps", String.format(Locale.ROOT, "%,d", trainSteps));
        rows.put("train / val loss", String.format(Locale.ROOT, "%.4f / %.4f", trainLoss, valLoss));
        rows.put("requests / results", String.format(Locale.ROOT, "%,d / %,d%s", requests, results,
                errors > 0 ? " (" + errors + " errors)" : ""));
        rows.put("generated tokens", String.format(Locale.ROOT, "%,d", generatedTokens));
        rows.put("held-out accuracy", accuracy == null ? "not measured (your own corpus)"
                : String.format(Locale.ROOT, "%.1f%%", 100 * accuracy));
        stageSeconds.forEach((stage, seconds) -> rows.put("stage " + stage, String.format(Locale.ROOT, "%.1f s%s",
                seconds, throughput.containsKey(stage) ? String.format(Locale.ROOT, "   %,.0f %s", throughput.get(stage),
                        unit(stage)) : "")));
        rows.put("model", modelDir);
        rows.put("loss curve", Path.of(modelDir).resolve(ModelFiles.LOSS_CURVE) + "  (metrics in "
                + ModelFiles.METRICS + " beside it)");
        rows.put("kafka", bootstrap + "  (registry " + registry + ")");
        rows.put("topics", String.join(", ", topics.documents(), topics.heldOut(), topics.tokens(), topics.windows(),
                topics.requests(), topics.results(), topics.models()));
        int width = rows.keySet().stream().mapToInt(String::length).max().orElse(0);
        out.println();
        rows.forEach((k, v) -> out.printf("  %-" + width + "s  %s%n", k, v));
        out.println();
        for (Sample s : samples) {
            out.printf("  %s\"%s\" -> \"%s\"%n", s.correct() == null ? "" : s.correct() ? "[ok]  " : "[bad] ", s.prompt(),
                    s.generated().strip());
        }
        out.flush();
    }

    private String unit(String stage) {
        return switch (stage) {
            case "corpus" -> "documents/s";
            case "inference" -> generatedTokens > 0 ? "generated tokens/s" : "results/s"; // classification
            default -> "tokens/s";
        };
    }
}
