package io.llmstream.inference.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GraphFilesTest {
    @TempDir
    Path dir;

    @Test
    void theSettingThenGenaiConfigThenModelOnnxThenTheProvidersFavourite() throws IOException {
        Path onnx = Files.createDirectory(dir.resolve("onnx"));
        for (String name : new String[] {"model_fp16.onnx", "model_q4.onnx", "model_int8.onnx"}) {
            Files.writeString(onnx.resolve(name), "");
        }
        assertThat(choose(null, ExecutionProvider.CPU)).isEqualTo(onnx.resolve("model_fp16.onnx"));
        assertThat(choose("q4", ExecutionProvider.CPU)).isEqualTo(onnx.resolve("model_q4.onnx"));

        Files.writeString(onnx.resolve("model.onnx"), "");
        assertThat(choose(null, ExecutionProvider.CPU)).isEqualTo(onnx.resolve("model.onnx"));
        assertThat(choose("fp32", ExecutionProvider.CUDA)).isEqualTo(onnx.resolve("model.onnx"));

        Files.writeString(dir.resolve("decoder.onnx"), "");
        Files.writeString(dir.resolve("genai_config.json"), "{\"model\": {\"decoder\": {\"filename\": \"decoder.onnx\"}}}");
        assertThat(choose(null, ExecutionProvider.CPU)).isEqualTo(dir.resolve("decoder.onnx"));
        assertThat(choose("int8", ExecutionProvider.CPU)).isEqualTo(onnx.resolve("model_int8.onnx"));

        assertThatThrownBy(() -> choose("q4f16", ExecutionProvider.CPU)).isInstanceOf(ModelLoadException.class)
                .hasMessage("model.variant=q4f16: no model_q4f16.onnx in the directory or its onnx/ folder (graphs "
                        + "there: [decoder.onnx, onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_int8.onnx, "
                        + "onnx/model_q4.onnx])");
    }

    @Test
    void aDirectoryWithoutAGraphIsRefusedSayingWhatWasLookedFor() {
        assertThatThrownBy(() -> choose(null, ExecutionProvider.CPU)).isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("no ONNX graph: neither model.onnx nor decoder_model_merged.onnx");
    }

    @Test
    void dynamicQuantizationIsFoundAcrossReadBoundaries() throws IOException {
        byte[] graph = new byte[(1 << 20) + 100];
        byte[] name = "DynamicQuantizeLinear".getBytes(StandardCharsets.US_ASCII);
        Path plain = Files.write(dir.resolve("plain.onnx"), graph);
        System.arraycopy(name, 0, graph, (1 << 20) - 7, name.length); // cut by the first 1 MiB read
        Path quantized = Files.write(dir.resolve("quantized.onnx"), graph);

        assertThat(GraphFiles.quantizesActivationsPerTensor(plain)).isFalse();
        assertThat(GraphFiles.quantizesActivationsPerTensor(quantized)).isTrue();
    }

    private Path choose(String variant, ExecutionProvider provider) throws IOException {
        return GraphFiles.choose(dir, variant, provider).file();
    }
}
