package io.llmstream.cli.demo;

import io.llmstream.trainer.GptConfig;
import io.llmstream.trainer.LlamaConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * The knobs of one demo run. The defaults finish within minutes on two cores; tests shrink them.
 *
 * @param documents        synthetic training documents (ignored with {@code input})
 * @param heldOut          synthetic held-out prompts (ignored with {@code input})
 * @param minLetters       shortest sequence of the reversal task
 * @param maxLetters       longest sequence of the reversal task
 * @param input            the user's files instead of the synthetic corpus; empty for the synthetic task
 * @param vocabSize        size of the BPE vocabulary trained on a sample of the corpus
 * @param windowLength     training window length, also the model's context: synthetic documents get one window
 *                         each (padded), the user's files are packed into windows
 * @param modelType        the decoder architecture, the trainer's {@code model.type}: gpt2 or llama (then with
 *                         half as many key/value heads as query heads)
 * @param form             how the synthetic task is given: as plain text, as instruction data (a prompt per
 *                         document, the answer in its {@code response} attribute, trained on the answer only: a loss
 *                         mask on each window) or as classification (letters labelled by whether they hold a vowel,
 *                         a classification head trained on them, CLASSIFY requests)
 * @param layers           decoder blocks
 * @param heads            attention heads per block
 * @param dModel           embedding width
 * @param batchSize        windows per optimizer step
 * @param trainSteps       optimizer steps
 * @param learningRate     peak learning rate of the warm-up + cosine schedule
 * @param maxNewTokens     generation budget per held-out prompt
 * @param partitions       partitions of the data topics
 * @param seed             seed of the synthetic corpus and of training
 * @param workDir          where the tokenizer, checkpoints, models and stream state go
 * @param bootstrap        an existing Kafka cluster, or null for the embedded broker and registry
 * @param registry         the schema registry of that cluster (needed with {@code bootstrap})
 */
public record DemoOptions(int documents, int heldOut, int minLetters, int maxLetters, List<Path> input, int vocabSize,
                          int windowLength, String modelType, Form form, int layers, int heads, int dModel,
                          int batchSize, int trainSteps, double learningRate, int maxNewTokens, int partitions,
                          long seed, Path workDir, String bootstrap, String registry) {

    public DemoOptions {
        input = List.copyOf(input);
        if ((bootstrap == null) != (registry == null)) {
            throw new IllegalArgumentException("--bootstrap and --registry go together (or neither, for the embedded platform)");
        }
        if (input.isEmpty() && (documents < 1 || heldOut < 1)) {
            throw new IllegalArgumentException("the synthetic corpus needs at least one document and one held-out prompt");
        }
        if (input.isEmpty() && (minLetters < 2 || maxLetters < minLetters || maxLetters > 26)) {
            throw new IllegalArgumentException("letters per example: need 2 <= --min-letters <= --max-letters <= 26");
        }
        if (!modelType.equals(GptConfig.TYPE) && !modelType.equals(LlamaConfig.TYPE)) {
            throw new IllegalArgumentException("--model-type must be " + GptConfig.TYPE + " or " + LlamaConfig.TYPE
                    + ", not '" + modelType + "'");
        }
        if (form != Form.TEXT && !input.isEmpty()) {
            throw new IllegalArgumentException("--instruct and --classify are for the synthetic task; files are plain text");
        }
        if (maxNewTokens >= windowLength) {
            throw new IllegalArgumentException("--max-new-tokens must leave room for the prompt within --window-length");
        }
    }

    /** How the synthetic task reaches the pipeline. */
    public enum Form { TEXT, INSTRUCT, CLASSIFY }

    /** Whether the corpus is the synthetic task (else the user's files). */
    public boolean synthetic() {
        return input.isEmpty();
    }

    /** Whether the demo starts its own broker and registry. */
    public boolean embedded() {
        return bootstrap == null;
    }
}
