package io.llmstream.inference.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.inference.model.DecoderModel;
import io.llmstream.inference.model.KvCache;
import io.llmstream.inference.model.ModelRunner;
import io.llmstream.inference.model.ModelLoader;
import io.llmstream.inference.model.Precision;
import io.llmstream.inference.model.RuntimeOptions;
import io.llmstream.schemas.FinishReason;
import io.llmstream.schemas.model.OnnxNames;
import io.llmstream.schemas.onnx.OnnxProto.GraphProto;
import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.NodeProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import io.llmstream.schemas.onnx.OnnxProtos;
import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Optimum exports of {@code ../shared/models} (tiny random-weight models written by HuggingFace transformers, with
 * its own greedy generations): each is served and must give exactly the expected tokens, alone and inside a batch of
 * prompts of other lengths. Float32 graphs must equal transformers itself; float16 graphs, which the worker computes in
 * float32 on the CPU, transformers with the weights rounded to float16; quantized graphs ONNX Runtime's own decoding.
 */
class HuggingFaceExportsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path MODELS = Path.of(System.getProperty("llmstream.shared", "../../shared")).resolve("models");
    private static final JsonNode FP16_AS_FLOAT32 = readResource("/fp16/fp16_as_float32.json");

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-fp32", "gpt2-fp16kv", "gpt2-merged", "llama-fp32", "llama-fp16kv", "llama-external",
            "llama2style-fp32", "llama-onnx-community", "llama-onnx-community:fp16", "llama-onnx-community:q4", "llama-onnx-community:int8",
            "phi3-fp32", "phi3-fp16kv",
            "qwen2-fp32", "qwen2-fp16kv", "qwen2-nopos"})
    void greedyTokensEqualTheFixturesAloneAndInAMixedBatch(String fixture) throws IOException, OrtException {
        String name = fixture.split(":")[0];
        String variant = fixture.contains(":") ? fixture.split(":")[1] : null;
        Path dir = MODELS.resolve(name);
        JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
        String graph = variant == null ? expected.path("graph").asText() : "onnx/model_" + variant + ".onnx";
        JsonNode ort = expected.path("variants").path(graph);
        assertThat(ort.isObject()).as("the fixture has expectations for %s", graph).isTrue();
        List<int[]> prompts = ints(expected.path("prompts"));
        int maxNewTokens = expected.path("maxNewTokens").asInt();
        assertThat(prompts).hasSizeGreaterThan(1);
        try (DecoderModel model = ModelLoader.load(dir, RuntimeOptions.cpu().withVariant(variant))) {
            assertThat(model.graphFile()).isEqualTo(dir.resolve(graph).toAbsolutePath().normalize());
            boolean float32 = model.signature().cachePrecision() == Precision.FLOAT32
                    && model.signature().logitsPrecision() == Precision.FLOAT32;
            assertThat(float32).as("served in float32").isTrue();
            boolean float16File = !ort.path("io").path("logits").asText().equals("float");
            // on the CPU a float16 graph is computed in float32 (ONNX Runtime's CPU kernels cast around most ops)
            assertThat(model.graphEdits().contains("float16 computed in float32")).as(model.graphEdits())
                    .isEqualTo(float16File);
            // the prefill's logits edit applies wherever the output projection is a MatMul, 4-bit ones included, and to
            // graphs with external weights too (int8's head is a rescaling Mul, a merged decoder's lies inside its If
            // branches)
            boolean keepsLogits = !name.equals("gpt2-merged") && !"int8".equals(variant);
            assertThat(model.graphEdits().contains("logits of the last positions")).as(model.graphEdits())
                    .isEqualTo(keepsLogits);
            // the Llama-family graphs (rotate-half rotary, grouped-query heads, Phi-3's rotary split of whole heads) and
            // GPT-2 get their attention rewritten; the merged decoder's If branches and int8 (served as exported) do not
            boolean fused = !name.equals("gpt2-merged") && !"int8".equals(variant);
            assertThat(model.graphEdits().contains("transformers attention fusion")).as(model.graphEdits())
                    .isEqualTo(fused);
            // every transformers graph edited gets its causal mask rebuilt; GPT-2's Conv1D layers become MatMuls
            assertThat(model.graphEdits().contains("causal mask rebuilt")).as(model.graphEdits())
                    .isEqualTo(!name.equals("gpt2-merged") && !"int8".equals(variant));
            assertThat(model.graphEdits().contains("Conv1D as MatMul")).as(model.graphEdits())
                    .isEqualTo(name.startsWith("gpt2") && !name.equals("gpt2-merged"));
            assertThat(Arrays.stream(model.eosIds()).boxed().toList())
                    .containsAll(ints(expected.path("eos")).stream().flatMap(a -> Arrays.stream(a).boxed()).toList());
            // float32 graphs: transformers' own tokens. float16 ones, computed in float32: transformers' with its
            // weights rounded to float16 (fp16/make_oracle.py). Quantized ones: ONNX Runtime's for the graph.
            boolean quantized = variant != null && (variant.startsWith("q") || variant.startsWith("int"));
            assertThat(model.signature().rowsCoupled()).as("dynamic quantization").isEqualTo("int8".equals(variant));
            // Quantized kernels depend on the CPU's instruction set (int8 sums saturate on AVX2 without VNNI), so for
            // them ONNX Runtime's own greedy decoding of the unedited graph on this machine is accepted as well.
            List<List<int[]>> accepted = float16File ? List.of(ints(FP16_AS_FLOAT32.path(fixture).path("greedy")))
                    : !quantized ? List.of(ints(expected.path("hfFp32")))
                    : List.of(ints(ort.path("greedy")), ortGreedy(dir.resolve(graph), prompts, maxNewTokens,
                            model.eosIds()));

            // the directory's tokenizer gives the fixture's prompt ids (with what its post-processor adds)
            for (int i = 0; i < prompts.size(); i++) {
                Tokenizer tokenizer = model.tokenizer();
                assertThat(tokenizer.addSpecialTokens(tokenizer.encode(expected.path("texts").get(i).asText(),
                        SpecialTokens.all()))).as("%s text %d", fixture, i).containsExactly(prompts.get(i));
            }
            List<Sampling> greedy = Collections.nCopies(prompts.size(), Sampling.greedy(maxNewTokens));
            List<Generation> batch = Generator.generateAll(model, prompts, greedy, BatchLimits.of(8));
            for (int i = 0; i < prompts.size(); i++) {
                Generation alone = Generator.generate(model, prompts.get(i), greedy.get(i));
                int prompt = i;
                assertThat(accepted).as("%s prompt %d alone: %s", fixture, i, alone)
                        .anySatisfy(want -> assertGenerated(alone, want.get(prompt), model));
                assertThat(batch.get(i)).as("%s prompt %d in a mixed batch", fixture, i).isEqualTo(alone);
            }
        }
    }

    /**
     * A pass of several new tokens over a past through the fused attention (as label scoring makes): two rows with
     * pasts of different lengths and 3 and 1 new tokens (the second padded between its past and its token) must each
     * get the logits they get alone.
     */
    @Test
    void aPassOfSeveralTokensOverAPastGivesEachRowItsLogitsAlone() throws IOException, OrtException {
        int[][] prompts = {{5, 6, 7, 8, 9}, {10, 11}};
        int[][] tails = {{20, 21, 22}, {30}};
        try (DecoderModel model = ModelLoader.load(MODELS.resolve("llama-fp32"), RuntimeOptions.cpu())) {
            assertThat(model.graphEdits()).contains("transformers attention fusion");
            ModelRunner runner = new ModelRunner(model);
            KvCache together = runner.newCache();
            together.reset(2);
            runner.forward(together, 5, ModelRunner.Tokens.of(prompts), 1);
            FloatBuffer both = runner.forward(together, 3, ModelRunner.Tokens.of(tails), 1);
            float[][] batched = new float[2][runner.vocab()];
            for (int r = 0; r < 2; r++) {
                both.get(runner.logitsAt(r, 2), batched[r]); // the buffer is the runner's until its next pass
            }
            for (int r = 0; r < 2; r++) {
                KvCache cache = runner.newCache();
                cache.reset(1);
                runner.forward(cache, prompts[r].length, ModelRunner.Tokens.of(prompts[r]), 1);
                FloatBuffer alone = runner.forward(cache, tails[r].length, ModelRunner.Tokens.of(tails[r]), 1);
                float[] single = new float[runner.vocab()];
                alone.get(runner.logitsAt(0, tails[r].length - 1), single);
                for (int i = 0; i < single.length; i++) {
                    assertThat(batched[r][i]).as("row %d logit %d", r, i).isCloseTo(single[i], within(1e-4f));
                }
            }
        }
    }

    /**
     * A graph without position_ids numbers positions from the cache's length, so only rows of one length batch:
     * prompts of one length run together (one pass for all of them), others on their own, each giving exactly
     * transformers' greedy tokens or, for the prompts cut to that length here, its tokens alone.
     */
    @Test
    void withoutPositionIdsPromptsOfOneLengthBatchTogetherAndStayExact() throws IOException {
        Path dir = MODELS.resolve("qwen2-nopos");
        JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
        List<int[]> fixture = ints(expected.path("prompts"));
        int length = fixture.get(0).length;
        List<int[]> prompts = new ArrayList<>();
        for (int[] p : fixture) {
            if (p.length >= length) {
                prompts.add(Arrays.copyOf(p, length)); // the first `length` ids of every long enough prompt
            }
        }
        assertThat(prompts).hasSizeGreaterThanOrEqualTo(3);
        prompts.add(fixture.get(1)); // and one of another length
        Sampling greedy = Sampling.greedy(expected.path("maxNewTokens").asInt());
        try (DecoderModel model = ModelLoader.load(dir, RuntimeOptions.cpu())) {
            assertThat(model.signature().positionIds()).isFalse();
            List<Integer> prefillRows = new ArrayList<>();
            Scheduler<Integer> scheduler = new Scheduler<>(BatchLimits.of(8), new InferenceListener() {
                @Override
                public void onForward(String phase, int rows, long slots, long paddingSlots, long nanos) {
                    assertThat(paddingSlots).as("padding in a %s pass", phase).isZero();
                    if (phase.equals("prefill")) {
                        prefillRows.add(rows);
                    }
                }
            });
            for (int i = 0; i < prompts.size(); i++) {
                scheduler.submit(Job.generate(i, model, prompts.get(i), greedy));
            }
            Map<Integer, Generation> batched = new HashMap<>();
            scheduler.drain().forEach(o -> batched.put(o.job().tag(), o.generation()));
            assertThat(prefillRows).containsExactly(prompts.size() - 1, 1);
            for (int i = 0; i < prompts.size(); i++) {
                Generation alone = Generator.generate(model, prompts.get(i), greedy);
                assertThat(batched.get(i)).as("prompt %d", i).isEqualTo(alone);
            }
            assertGenerated(batched.get(0), ints(expected.path("hfFp32")).get(0), model);
            assertGenerated(batched.get(prompts.size() - 1), ints(expected.path("hfFp32")).get(1), model);
        }
    }

    /**
     * onnx-community exports may take {@code num_logits_to_keep} (an int64 scalar: logits for the last this-many
     * positions, 0 for all): the worker feeds it, asks for the last position only and serves the graph without its
     * own logits edit. The input is added here to llama-fp32's graph as transformers defines it ({@code
     * hidden[:, -k:, :]} before the output projection).
     */
    @Test
    void anExportsOwnNumLogitsToKeepInputIsFedAndServesTheSameTokens(@TempDir Path dir) throws IOException, OrtException {
        Path source = MODELS.resolve("llama-fp32");
        for (String file : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(source.resolve(file), dir.resolve(file));
        }
        Files.write(dir.resolve("model.onnx"), withNumLogitsToKeep(Files.readAllBytes(source.resolve("model.onnx"))));
        JsonNode expected = JSON.readTree(source.resolve("expected.json").toFile());
        List<int[]> prompts = ints(expected.path("prompts"));
        List<int[]> want = ints(expected.path("hfFp32"));
        Sampling greedy = Sampling.greedy(expected.path("maxNewTokens").asInt());
        try (DecoderModel model = ModelLoader.load(dir, RuntimeOptions.cpu())) {
            assertThat(model.signature().logitsToKeep()).isEqualTo(OnnxNames.NUM_LOGITS_TO_KEEP);
            assertThat(model.signature().logitsToKeepRank()).isZero();
            assertThat(model.graphEdits()).doesNotContain("logits of the last positions");
            List<Generation> batch = Generator.generateAll(model, prompts,
                    Collections.nCopies(prompts.size(), greedy), BatchLimits.of(8));
            for (int i = 0; i < prompts.size(); i++) {
                Generation alone = Generator.generate(model, prompts.get(i), greedy);
                assertGenerated(alone, want.get(i), model);
                assertThat(batch.get(i)).as("prompt %d in a mixed batch", i).isEqualTo(alone);
            }
        }
    }

    /** The graph with an int64 scalar input {@code num_logits_to_keep} slicing the hidden states before the head. */
    private static byte[] withNumLogitsToKeep(byte[] onnx) throws IOException {
        ModelProto model = ModelProto.parseFrom(onnx);
        GraphProto graph = model.getGraph();
        int head = 0;
        while (!graph.getNode(head).getOutputList().contains(OnnxNames.LOGITS)) {
            head++;
        }
        NodeProto matMul = graph.getNode(head);
        assertThat(matMul.getOpType()).isEqualTo("MatMul");
        long[] vector = {1};
        GraphProto.Builder edited = graph.toBuilder()
                .addInput(OnnxProtos.valueInfo(OnnxNames.NUM_LOGITS_TO_KEEP, TensorProto.DataType.INT64_VALUE))
                .addInitializer(OnnxProtos.int64Tensor("keep/shape", vector, 1))
                .addInitializer(OnnxProtos.int64Tensor("keep/end", vector, Long.MAX_VALUE))
                .addInitializer(OnnxProtos.int64Tensor("keep/axis", vector, 1))
                .setNode(head, matMul.toBuilder().setInput(0, "keep/hidden"));
        edited.addNode(head, OnnxProtos.node("Reshape", "keep/vector", List.of(OnnxNames.NUM_LOGITS_TO_KEEP,
                "keep/shape"), List.of("keep/k")));
        edited.addNode(head + 1, OnnxProtos.node("Neg", "keep/neg", List.of("keep/k"), List.of("keep/start")));
        edited.addNode(head + 2, OnnxProtos.node("Slice", "keep/slice",
                List.of(matMul.getInput(0), "keep/start", "keep/end", "keep/axis"), List.of("keep/hidden")));
        return model.toBuilder().setGraph(edited).build().toByteArray();
    }

    /** transformers' tokens end with the eos they stopped at; ours leave it out and say EOS. */
    private static void assertGenerated(Generation g, int[] want, DecoderModel model) {
        int last = want[want.length - 1];
        boolean stopped = Arrays.stream(model.eosIds()).anyMatch(id -> id == last);
        assertThat(g.outputIds()).containsExactly(stopped ? Arrays.copyOf(want, want.length - 1) : want);
        assertThat(g.finishReason()).isEqualTo(stopped ? FinishReason.EOS : FinishReason.LENGTH);
    }

    /**
     * The fixtures' own reference decoding, here: each prompt alone through a plain ONNX Runtime session of the graph
     * (float32 past and logits), the whole prompt first with an empty past, then one token per call, greedy, the eos
     * kept as transformers keeps it.
     */
    private static List<int[]> ortGreedy(Path graph, List<int[]> prompts, int maxNewTokens, int[] eos)
            throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<int[]> out = new ArrayList<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(graph.toString(), options)) {
                for (int[] prompt : prompts) {
                    out.add(ortGreedy(env, session, prompt, maxNewTokens, eos));
                }
            }
        }
        return out;
    }

    private static int[] ortGreedy(OrtEnvironment env, OrtSession session, int[] prompt, int maxNewTokens, int[] eos)
            throws OrtException {
        Map<String, OnnxTensor> past = new HashMap<>();
        for (Map.Entry<String, NodeInfo> in : session.getInputInfo().entrySet()) {
            if (in.getKey().startsWith("past_key_values.")) {
                long[] shape = ((TensorInfo) in.getValue().getInfo()).getShape().clone();
                shape[0] = 1;
                shape[2] = 0;
                past.put(in.getKey(), OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
            }
        }
        List<Integer> generated = new ArrayList<>();
        long[] ids = Arrays.stream(prompt).asLongStream().toArray();
        int pastLength = 0;
        while (generated.size() < maxNewTokens) {
            Map<String, OnnxTensor> inputs = new HashMap<>(past);
            long[] positions = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                positions[i] = pastLength + i;
            }
            long[] mask = new long[pastLength + ids.length];
            Arrays.fill(mask, 1);
            inputs.put("input_ids", OnnxTensor.createTensor(env, new long[][] {ids}));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, new long[][] {mask}));
            if (session.getInputNames().contains("position_ids")) {
                inputs.put("position_ids", OnnxTensor.createTensor(env, new long[][] {positions}));
            }
            int next;
            try (OrtSession.Result result = session.run(inputs)) {
                float[][][] logits = (float[][][]) result.get("logits").get().getValue();
                float[] last = logits[0][ids.length - 1];
                next = 0;
                for (int v = 1; v < last.length; v++) {
                    next = last[v] > last[next] ? v : next;
                }
                for (OnnxTensor t : past.values()) {
                    t.close();
                }
                past.clear();
                for (String name : session.getInputNames()) {
                    if (name.startsWith("past_key_values.")) {
                        float[][][][] present = (float[][][][]) result.get(name.replace("past_key_values.", "present."))
                                .get().getValue();
                        past.put(name, OnnxTensor.createTensor(env, present));
                    }
                }
            } finally {
                inputs.forEach((name, t) -> {
                    if (!name.startsWith("past_key_values.")) {
                        t.close();
                    }
                });
            }
            pastLength += ids.length;
            generated.add(next);
            ids = new long[] {next};
            int token = next;
            if (Arrays.stream(eos).anyMatch(e -> e == token)) {
                break;
            }
        }
        past.values().forEach(OnnxTensor::close);
        return generated.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A JSON array of int arrays, or of ints (then one array of them). */
    private static JsonNode readResource(String name) {
        try (InputStream in = HuggingFaceExportsTest.class.getResourceAsStream(name)) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<int[]> ints(JsonNode node) {
        List<int[]> out = new ArrayList<>();
        if (node.size() > 0 && !node.get(0).isArray()) {
            out.add(toInts(node));
            return out;
        }
        node.forEach(row -> out.add(toInts(row)));
        return out;
    }

    private static int[] toInts(JsonNode row) {
        int[] ids = new int[row.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = row.get(i).asInt();
        }
        return ids;
    }
}
