package io.llmstream.schemas.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelManifestTest {

    @TempDir
    Path dir;

    private ModelManifest manifestOf(Map<String, String> files) {
        return new ModelManifest("tiny", "step-000000000300",
                new ModelManifest.Architecture("gpt2", 100, 32, 2, 4, 4, 64, 256, List.of("spam", "ham")),
                new ModelManifest.SpecialTokens(-1, 99, -1), "cl100k_base", "sha256:abc",
                Map.of("val_loss", 2.5), files, "2026-01-01T00:00:00Z");
    }

    @Test
    void roundTripsThroughModelJsonAndVerifiesTheListedFiles() throws IOException {
        Files.writeString(dir.resolve(ModelFiles.MODEL), "onnx bytes");
        Files.writeString(dir.resolve(ModelFiles.GENAI_CONFIG), "{}");
        ModelManifest written = manifestOf(ModelManifest.digests(dir, List.of(ModelFiles.MODEL, ModelFiles.GENAI_CONFIG)));
        written.write(dir);

        ModelManifest read = ModelManifest.read(dir);
        assertThat(read).isEqualTo(written);
        // sha256sum of the bytes "onnx bytes"
        assertThat(read.files()).containsEntry(ModelFiles.MODEL, "c1650a9961b22b18b7919016db749eb46e2f14ad9da48dd02aa586fe8a335978");
        assertThat(read.hasFile(ModelFiles.TOKENIZER)).isFalse();
        read.verify(dir);
    }

    @Test
    void verifyNamesTheAlteredFile() throws IOException {
        Files.writeString(dir.resolve(ModelFiles.MODEL), "onnx bytes");
        ModelManifest manifest = manifestOf(ModelManifest.digests(dir, List.of(ModelFiles.MODEL)));
        Files.writeString(dir.resolve(ModelFiles.MODEL), "onnx bytez");

        assertThatThrownBy(() -> manifest.verify(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("model.onnx").hasMessageContaining(manifest.files().get(ModelFiles.MODEL));
    }

    @Test
    void verifyNamesTheMissingFile() throws IOException {
        ModelManifest manifest = manifestOf(Map.of(ModelFiles.TOKENIZER, "00"));

        assertThatThrownBy(() -> manifest.verify(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("missing");
    }

    @Test
    void readIgnoresFieldsAddedByNewerWritersAndReportsMalformedFiles() throws IOException {
        manifestOf(Map.of()).write(dir);
        String json = Files.readString(dir.resolve(ModelFiles.MANIFEST));
        Files.writeString(dir.resolve(ModelFiles.MANIFEST), json.replaceFirst("\\{", "{\"addedLater\": [1, 2],"));
        assertThat(ModelManifest.read(dir).name()).isEqualTo("tiny");

        Files.writeString(dir.resolve(ModelFiles.MANIFEST), "{\"name\": ");
        assertThatThrownBy(() -> ModelManifest.read(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("malformed model manifest");
    }

    @Test
    void manifestsWrittenBeforeClassificationHeadsReadAsLanguageModels() throws IOException {
        manifestOf(Map.of()).write(dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(dir.resolve(ModelFiles.MANIFEST).toFile());
        ((ObjectNode) manifest.get("architecture")).remove("classLabels");
        json.writeValue(dir.resolve(ModelFiles.MANIFEST).toFile(), manifest);

        ModelManifest.Architecture a = ModelManifest.read(dir).architecture();
        assertThat(a.classLabels()).isEmpty();
        assertThat(a.logitsWidth()).isEqualTo(100);
        assertThat(manifestOf(Map.of()).architecture().logitsWidth()).isEqualTo(102);
    }

    @Test
    void layerNamesFollowOptimum() {
        assertThat(OnnxNames.pastKey(3)).isEqualTo("past_key_values.3.key");
        assertThat(OnnxNames.pastValue(0)).isEqualTo("past_key_values.0.value");
        assertThat(OnnxNames.presentKey(11)).isEqualTo("present.11.key");
        assertThat(OnnxNames.presentValue(2)).isEqualTo("present.2.value");
    }
}
