package io.llmstream.tokenizer.chat;

import java.util.List;

/** A parsed template: statements ({@link Node}) over expressions ({@link Expr}); each statement keeps its line. */
sealed interface Node {
    int line();

    record Text(int line, String text) implements Node { }

    record Print(int line, Expr value) implements Node { }

    record If(int line, List<Expr> conditions, List<List<Node>> bodies, List<Node> orElse) implements Node { }

    /** {@code for targets in iterable [if filter]}; {@code orElse} runs when nothing was iterated. */
    record For(int line, List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> orElse)
            implements Node { }

    record Set(int line, List<String> targets, Expr value) implements Node { }

    /** {@code set ns.attr = value}: the one assignment that reaches out of a loop's scope. */
    record SetAttribute(int line, String object, String attribute, Expr value) implements Node { }

    /** {@code {% set name %}...{% endset %}}, its output through the filters. */
    record SetBlock(int line, String target, List<Expr.Filter> filters, List<Node> body) implements Node { }

    record Macro(int line, String name, List<String> parameters, List<Expr> defaults, List<Node> body)
            implements Node { }

    /** {@code {% filter f %}...{% endfilter %}}: the body's output through the filters. */
    record FilterBlock(int line, List<Expr.Filter> filters, List<Node> body) implements Node { }

    record Break(int line) implements Node { }

    record Continue(int line) implements Node { }
}
