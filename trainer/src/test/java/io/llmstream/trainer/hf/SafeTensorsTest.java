package io.llmstream.trainer.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.llmstream.schemas.onnx.OnnxProto.ModelProto;
import io.llmstream.schemas.onnx.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safetensors reader on a checkpoint transformers wrote (../shared/models/llama-fp32), checked against the same
 * weights in the ONNX graph exported from it; float16 and bfloat16 values; the writer's files read back.
 */
class SafeTensorsTest {
    private static final Path LLAMA = Path.of(System.getProperty("llmstream.shared", "../../shared"))
            .resolve("models/llama-fp32");

    @Test
    void readsTransformersCheckpointAsTheExportedGraphHoldsIt() throws IOException {
        SafeTensors st = SafeTensors.open(LLAMA.resolve("model.safetensors"));
        SafeTensors.Entry embed = st.entries().get("model.embed_tokens.weight");
        assertThat(embed.dtype()).isEqualTo("F32");
        assertThat(embed.shape()).containsExactly(2000, 64);
        assertThat(st.entries()).containsKeys("model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight",
                "model.norm.weight");
        assertThat(st.entries().get("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(32, 64); // 2 KV heads
        TensorProto onnx = ModelProto.parseFrom(Files.readAllBytes(LLAMA.resolve("model.onnx"))).getGraph()
                .getInitializerList().stream().filter(t -> t.getName().equals("model.model.embed_tokens.weight"))
                .findFirst().orElseThrow();
        float[] fromGraph = new float[2000 * 64];
        onnx.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(fromGraph);
        assertThat(st.floats("model.embed_tokens.weight")).containsExactly(fromGraph);
    }

    @Test
    void float16AndBfloat16ValuesWidenExactly(@TempDir Path dir) throws IOException {
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
                + "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[16,24]}}";
        ByteBuffer file = ByteBuffer.allocate(8 + header.length() + 24).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(header.length()).put(header.getBytes(StandardCharsets.UTF_8));
        for (int h : new int[] {0x3C00, 0xC000, 0x3800, 0x0001, 0x7BFF, 0xFC00}) {
            file.putShort((short) h);
        }
        file.putShort((short) 0x3F80).putShort((short) 0xC040).putLong(7);
        Path path = dir.resolve("mixed.safetensors");
        Files.write(path, file.array());
        SafeTensors st = SafeTensors.open(path);
        assertThat(st.floats("h")).containsExactly(1f, -2f, 0.5f, 0x1p-24f, 65504f, Float.NEGATIVE_INFINITY);
        assertThat(st.floats("b")).containsExactly(1f, -3f);
        assertThatThrownBy(() -> st.floats("i")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'i' is I64");
        assertThatThrownBy(() -> st.floats("nope")).hasMessageContaining("no tensor 'nope'");
    }

    @Test
    void writtenFilesReadBackWithTheirMetadata(@TempDir Path dir) throws IOException {
        Map<String, SafeTensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a.weight", new SafeTensors.Tensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        tensors.put("b", new SafeTensors.Tensor(new long[] {1}, new float[] {Float.MIN_VALUE}));
        Path path = dir.resolve("model.safetensors");
        SafeTensors.write(path, tensors, Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(path);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLength % 8).isZero();
        assertThat(bytes).hasSize((int) (8 + headerLength + 4 * 7));
        SafeTensors st = SafeTensors.open(path);
        assertThat(st.entries().keySet()).containsExactly("a.weight", "b");
        assertThat(st.entries().get("a.weight").shape()).containsExactly(2, 3);
        assertThat(st.floats("a.weight")).containsExactly(1, 2, 3, 4, 5, -6.5f);
        assertThat(st.floats("b")).containsExactly(Float.MIN_VALUE);
        assertThat(st.metadata()).containsEntry("format", "pt");

        Files.write(path, Arrays.copyOf(bytes, 20)); // cut inside the header
        assertThatThrownBy(() -> SafeTensors.open(path)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a safetensors file");
        assertThatThrownBy(() -> SafeTensors.write(path, Map.of("x", new SafeTensors.Tensor(new long[] {3},
                new float[2])), Map.of())).hasMessageContaining("does not hold 2 values");
    }
}
