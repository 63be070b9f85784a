package io.llmstream.trainer;

import ai.djl.nn.Parameter;

/**
 * A trainable tensor under the name checkpoints, the optimizer and the exporters know it by; {@code decay} marks the
 * matrices that get weight decay.
 */
public record NamedParameter(String name, Parameter parameter, boolean decay) {}
