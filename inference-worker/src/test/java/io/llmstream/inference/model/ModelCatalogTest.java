package io.llmstream.inference.model;

import io.llmstream.inference.TestModels;

import io.llmstream.trainer.GptConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelCatalogTest {

    @TempDir
    static Path root;
    private static final List<DecoderModel> models = new ArrayList<>();

    @BeforeAll
    static void load() throws Exception {
        GptConfig config = new GptConfig(TestModels.VOCAB, 16, 1, 2, 16, 32, 0f, true);
        for (String id : List.of("a:1", "a:2", "a:3", "b:1")) {
            String[] parts = id.split(":");
            models.add(ModelLoader.load(TestModels.randomModel(root, parts[0], parts[1], config, 1), RuntimeOptions.cpu()));
        }
    }

    @AfterAll
    static void close() {
        models.forEach(DecoderModel::close);
    }

    @Test
    void resolvesPinsAndKeepsTheNewestVersionsPerName() {
        DecoderModel a1 = models.get(0);
        DecoderModel a2 = models.get(1);
        DecoderModel a3 = models.get(2);
        DecoderModel b1 = models.get(3);
        ModelCatalog catalog = new ModelCatalog(null, 2);
        assertThatThrownBy(() -> catalog.resolve(null)).hasMessageContaining("no model");

        assertThat(catalog.install(a1)).isEmpty();
        assertThat(catalog.install(b1)).isEmpty();
        assertThat(catalog.resolve(null)).as("the first name installed is the default").isSameAs(a1);
        assertThat(catalog.install(a2)).isEmpty();
        assertThat(catalog.resolve("")).isSameAs(a2);
        assertThat(catalog.resolve("a:1")).isSameAs(a1);
        assertThat(catalog.resolve("b")).isSameAs(b1);

        assertThat(catalog.install(a3)).containsExactly(a1);
        assertThat(catalog.resolve(null)).isSameAs(a3);
        assertThat(catalog.resolve("a:2")).isSameAs(a2);
        assertThatThrownBy(() -> catalog.resolve("a:1")).hasMessageContaining("unknown model 'a:1'")
                .hasMessageContaining("a:3, a:2, b:1");
        assertThatThrownBy(() -> catalog.resolve("c")).hasMessageContaining("unknown model 'c'");
        assertThat(new ModelCatalog("b", 2).install(a1)).isEmpty();
    }
}
