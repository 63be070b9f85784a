package io.llmstream.tokenizer.chat;

import java.util.List;
import java.util.Map;

/** Template expressions; the operators keep Jinja's (Python's) meaning, see {@link Values}. */
sealed interface Expr {
    record Constant(Object value) implements Expr { }

    record Name(String name) implements Expr { }

    /** A list literal, or a tuple (parenthesized or bare, comma-separated). */
    record ListOf(List<Expr> items, boolean tuple) implements Expr { }

    record DictOf(List<Expr> keys, List<Expr> values) implements Expr { }

    /** {@code object.name}: an attribute first, then an item (Jinja's getattr). */
    record Attribute(Expr object, String name) implements Expr { }

    /** {@code object[key]}: an item first, then an attribute (Jinja's getitem). */
    record Item(Expr object, Expr key) implements Expr { }

    record Slice(Expr object, Expr start, Expr stop, Expr step) implements Expr { }

    record Call(Expr function, Arguments arguments) implements Expr { }

    record Filter(Expr value, String name, Builtins.FilterFunction function, Arguments arguments) implements Expr { }

    record Test(Expr value, String name, Builtins.TestFunction function, Arguments arguments, boolean negated)
            implements Expr { }

    record Not(Expr value) implements Expr { }

    record Negate(Expr value) implements Expr { }

    /** + - * / // % ** and ~. */
    record Binary(String operator, Expr left, Expr right) implements Expr { }

    /** A chain {@code a < b <= c}: every pair must hold. */
    record Compare(Expr first, List<String> operators, List<Expr> rest) implements Expr { }

    record And(Expr left, Expr right) implements Expr { }

    record Or(Expr left, Expr right) implements Expr { }

    /** {@code then if test else orElse}; without else an undefined value. */
    record Conditional(Expr test, Expr then, Expr orElse) implements Expr { }

    record Arguments(List<Expr> positional, Map<String, Expr> keywords) {
        static final Arguments NONE = new Arguments(List.of(), Map.of());
    }
}
