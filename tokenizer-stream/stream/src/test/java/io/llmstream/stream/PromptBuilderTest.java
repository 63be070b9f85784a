package io.llmstream.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {
    private static final Tokenizer LLAMA2 = Tokenizers.load(Path.of(System.getProperty("llmstream.shared",
            "../../../shared")).resolve("tokenizers/llama2.tokenizer.json").toString());

    @Test
    void theTokenizersSpecialTokensGoAroundThePromptWithinTheBudget() {
        PromptBuilder builder = new PromptBuilder(LLAMA2, "Q: {text}\nA:", List.of(), 16, PromptBuilder.Side.LEFT);
        PromptBuilder.Prompt fits = builder.build("two plus two");
        assertThat(fits.truncated()).isFalse();
        assertThat(fits.ids()).containsExactly(LLAMA2.addSpecialTokens(LLAMA2.encode("Q: two plus two\nA:")));
        assertThat(fits.ids()[0]).isEqualTo(1); // <s>

        String longText = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
        PromptBuilder.Prompt cut = builder.build(longText);
        assertThat(cut.truncated()).isTrue();
        assertThat(cut.ids()).hasSize(16);
        assertThat(cut.ids()[0]).isEqualTo(1);
        int[] suffix = LLAMA2.encode("\nA:");
        assertThat(Arrays.copyOfRange(cut.ids(), 16 - suffix.length, 16)).containsExactly(suffix);
    }
}
