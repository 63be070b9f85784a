package io.llmstream.tokenizer.chat;

import io.llmstream.tokenizer.chat.TemplateLexer.Kind;
import io.llmstream.tokenizer.chat.TemplateLexer.Token;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recursive descent over the lexer's tokens, with Jinja's operator precedence (loosest first): conditional
 * expression, or, and, not, comparisons and {@code in}, + -, ~, * / // %, **, unary minus, then postfix
 * ({@code .name}, {@code [key]}, calls) and filters / tests. Unknown filters, tests and tags are refused here, so a
 * template we cannot render fails when it is loaded, not at the first request.
 */
final class TemplateParser {
    private static final Set<String> COMPARISONS = Set.of("==", "!=", "<", ">", "<=", ">=");

    private final List<Token> tokens;
    private int at;

    private TemplateParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source) {
        TemplateParser p = new TemplateParser(TemplateLexer.tokenize(source));
        List<Node> body = p.body(Set.of());
        if (p.peek().kind() != Kind.EOF) {
            throw p.error("unexpected '{% " + p.tokens.get(p.at + 1).text() + " %}'");
        }
        return body;
    }

    // ---- statements

    /** Statements up to EOF or up to a block tag whose keyword is in {@code ends} (left unconsumed). */
    private List<Node> body(Set<String> ends) {
        List<Node> nodes = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw error("the template ends before {% " + String.join(" / ", ends) + " %}");
                    }
                    return nodes;
                }
                case TEXT -> nodes.add(new Node.Text(next().line(), t.text()));
                case VAR_BEGIN -> {
                    next();
                    Expr e = tuple();
                    expect(Kind.VAR_END, "}}");
                    nodes.add(new Node.Print(t.line(), e));
                }
                case BLOCK_BEGIN -> {
                    Token keyword = tokens.get(at + 1);
                    if (ends.contains(keyword.text())) {
                        return nodes;
                    }
                    next();
                    next();
                    nodes.add(statement(keyword));
                }
                default -> throw error("unexpected '" + t.text() + "'");
            }
        }
    }

    private Node statement(Token keyword) {
        int line = keyword.line();
        switch (keyword.text()) {
            case "if":
                return ifStatement(line);
            case "for":
                return forStatement(line);
            case "set":
                return setStatement(line);
            case "macro":
                return macro(line);
            case "filter": {
                List<Expr.Filter> filters = filterChain();
                endTag();
                List<Node> body = body(Set.of("endfilter"));
                closing();
                return new Node.FilterBlock(line, filters, body);
            }
            case "generation": {
                // transformers' AssistantTracker marks assistant text for masks; the rendered text is the body's
                endTag();
                List<Node> body = body(Set.of("endgeneration"));
                closing();
                return new Node.FilterBlock(line, List.of(), body);
            }
            case "break":
                endTag();
                return new Node.Break(line);
            case "continue":
                endTag();
                return new Node.Continue(line);
            default:
                throw new TemplateError("unsupported tag {% " + keyword.text() + " %}", line);
        }
    }

    private Node ifStatement(int line) {
        List<Expr> conditions = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> orElse = List.of();
        conditions.add(tuple());
        endTag();
        while (true) {
            bodies.add(body(Set.of("elif", "else", "endif")));
            String keyword = closingKeyword();
            if (keyword.equals("elif")) {
                conditions.add(tuple());
                endTag();
            } else if (keyword.equals("else")) {
                endTag();
                orElse = body(Set.of("endif"));
                closing();
                break;
            } else {
                endTag();
                break;
            }
        }
        return new Node.If(line, conditions, bodies, orElse);
    }

    private Node forStatement(int line) {
        List<String> targets = names();
        if (!next().isName("in")) {
            throw error("expected 'in' after the for loop's variables");
        }
        Expr iterable = tuple(false);
        Expr filter = null;
        if (peek().isName("if")) {
            next();
            filter = expression(true);
        }
        if (peek().isName("recursive")) {
            throw error("recursive for loops are not supported");
        }
        endTag();
        List<Node> body = body(Set.of("else", "endfor"));
        List<Node> orElse = List.of();
        if (closingKeyword().equals("else")) {
            endTag();
            orElse = body(Set.of("endfor"));
            closing();
        } else {
            endTag();
        }
        return new Node.For(line, targets, iterable, filter, body, orElse);
    }

    private Node setStatement(int line) {
        Token first = expectName();
        if (peek().isOp(".")) {
            next();
            String attribute = expectName().text();
            expectOp("=");
            Expr value = tuple();
            endTag();
            return new Node.SetAttribute(line, first.text(), attribute, value);
        }
        List<String> targets = new ArrayList<>(List.of(first.text()));
        while (peek().isOp(",")) {
            next();
            targets.add(expectName().text());
        }
        if (peek().isOp("=")) {
            next();
            Expr value = tuple();
            endTag();
            return new Node.Set(line, targets, value);
        }
        if (targets.size() != 1) {
            throw error("a {% set %} block assigns one name");
        }
        List<Expr.Filter> filters = peek().isOp("|") ? filterChainAfterBar() : List.of();
        endTag();
        List<Node> body = body(Set.of("endset"));
        closing();
        return new Node.SetBlock(line, first.text(), filters, body);
    }

    private Node macro(int line) {
        String name = expectName().text();
        expectOp("(");
        List<String> parameters = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        while (!peek().isOp(")")) {
            parameters.add(expectName().text());
            if (peek().isOp("=")) {
                next();
                defaults.add(expression(true));
            } else {
                defaults.add(null);
            }
            if (!peek().isOp(",")) {
                break;
            }
            next();
        }
        expectOp(")");
        endTag();
        List<Node> body = body(Set.of("endmacro"));
        closing();
        return new Node.Macro(line, name, parameters, defaults, body);
    }

    private List<String> names() {
        List<String> names = new ArrayList<>();
        boolean parens = peek().isOp("(");
        if (parens) {
            next();
        }
        names.add(expectName().text());
        while (peek().isOp(",")) {
            next();
            names.add(expectName().text());
        }
        if (parens) {
            expectOp(")");
        }
        return names;
    }

    /** Consumes {% and the keyword of the tag that ended a body; returns the keyword. */
    private String closingKeyword() {
        expect(Kind.BLOCK_BEGIN, "{%");
        return next().text();
    }

    /** Consumes a whole closing tag such as {% endif %}. */
    private void closing() {
        closingKeyword();
        endTag();
    }

    private void endTag() {
        expect(Kind.BLOCK_END, "%}");
    }

    // ---- expressions

    private Expr tuple() {
        return tuple(true);
    }

    /** An expression, or several separated by commas (a tuple, held as a list). */
    private Expr tuple(boolean withConditional) {
        Expr first = expression(withConditional);
        if (!peek().isOp(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        while (peek().isOp(",")) {
            next();
            if (endsTuple(peek())) {
                break;
            }
            items.add(expression(withConditional));
        }
        return new Expr.ListOf(items, true);
    }

    private static boolean endsTuple(Token t) {
        return t.kind() == Kind.VAR_END || t.kind() == Kind.BLOCK_END || t.isOp(")") || t.isName("if");
    }

    private Expr expression(boolean withConditional) {
        Expr e = or();
        if (withConditional) {
            while (peek().isName("if")) {
                next();
                Expr test = or();
                Expr orElse = null;
                if (peek().isName("else")) {
                    next();
                    orElse = expression(true);
                }
                e = new Expr.Conditional(test, e, orElse);
            }
        }
        return e;
    }

    private Expr or() {
        Expr e = and();
        while (peek().isName("or")) {
            next();
            e = new Expr.Or(e, and());
        }
        return e;
    }

    private Expr and() {
        Expr e = not();
        while (peek().isName("and")) {
            next();
            e = new Expr.And(e, not());
        }
        return e;
    }

    private Expr not() {
        if (peek().isName("not")) {
            next();
            return new Expr.Not(not());
        }
        return compare();
    }

    private Expr compare() {
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARISONS.contains(t.text())) {
                next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && tokens.get(at + 1).isName("in")) {
                next();
                next();
                ops.add("not in");
            } else {
                break;
            }
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, rest);
    }

    private Expr math1() {
        Expr e = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            e = new Expr.Binary(next().text(), e, concat());
        }
        return e;
    }

    private Expr concat() {
        Expr e = math2();
        while (peek().isOp("~")) {
            next();
            e = new Expr.Binary("~", e, math2());
        }
        return e;
    }

    private Expr math2() {
        Expr e = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            e = new Expr.Binary(next().text(), e, pow());
        }
        return e;
    }

    private Expr pow() {
        Expr e = unary(true);
        while (peek().isOp("**")) {
            next();
            e = new Expr.Binary("**", e, unary(true));
        }
        return e;
    }

    private Expr unary(boolean withFilter) {
        Expr e;
        if (peek().isOp("-")) {
            next();
            e = new Expr.Negate(unary(false));
        } else if (peek().isOp("+")) {
            next();
            e = unary(false);
        } else {
            e = postfix(primary());
        }
        return withFilter ? filterExpression(e) : e;
    }

    private Expr primary() {
        Token t = next();
        switch (t.kind()) {
            case NAME:
                return switch (t.text()) {
                    case "true", "True" -> new Expr.Constant(Boolean.TRUE);
                    case "false", "False" -> new Expr.Constant(Boolean.FALSE);
                    case "none", "None" -> new Expr.Constant(null);
                    default -> new Expr.Name(t.text());
                };
            case STRING: {
                StringBuilder sb = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) {
                    sb.append(next().text());
                }
                return new Expr.Constant(sb.toString());
            }
            case INT:
            case FLOAT:
                return new Expr.Constant(t.value());
            case OP:
                switch (t.text()) {
                    case "(": {
                        if (peek().isOp(")")) {
                            next();
                            return new Expr.ListOf(List.of(), true);
                        }
                        Expr e = tuple();
                        expectOp(")");
                        return e;
                    }
                    case "[": {
                        List<Expr> items = new ArrayList<>();
                        while (!peek().isOp("]")) {
                            items.add(expression(true));
                            if (!peek().isOp(",")) {
                                break;
                            }
                            next();
                        }
                        expectOp("]");
                        return new Expr.ListOf(items, false);
                    }
                    case "{": {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!peek().isOp("}")) {
                            keys.add(expression(true));
                            expectOp(":");
                            values.add(expression(true));
                            if (!peek().isOp(",")) {
                                break;
                            }
                            next();
                        }
                        expectOp("}");
                        return new Expr.DictOf(keys, values);
                    }
                    default:
                        break;
                }
                break;
            default:
                break;
        }
        throw new TemplateError("unexpected '" + describe(t) + "' in an expression", t.line());
    }

    private Expr postfix(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp(".")) {
                next();
                Token name = next();
                if (name.kind() == Kind.NAME) {
                    e = new Expr.Attribute(e, name.text());
                } else if (name.kind() == Kind.INT) {
                    e = new Expr.Item(e, new Expr.Constant(name.value()));
                } else {
                    throw new TemplateError("expected a name after '.'", name.line());
                }
            } else if (t.isOp("[")) {
                next();
                e = subscript(e);
            } else if (t.isOp("(")) {
                next();
                e = new Expr.Call(e, arguments());
            } else {
                return e;
            }
        }
    }

    private Expr subscript(Expr object) {
        Expr[] parts = new Expr[3];
        int part = 0;
        boolean slice = false;
        while (!peek().isOp("]")) {
            if (peek().isOp(":")) {
                next();
                slice = true;
                if (++part > 2) {
                    throw error("a slice has at most three parts");
                }
                continue;
            }
            parts[part] = tuple();
        }
        expectOp("]");
        if (!slice) {
            if (parts[0] == null) {
                throw error("empty subscript []");
            }
            return new Expr.Item(object, parts[0]);
        }
        return new Expr.Slice(object, parts[0], parts[1], parts[2]);
    }

    /** After the opening parenthesis: positional then {@code name=value} arguments, up to and with ')'. */
    private Expr.Arguments arguments() {
        List<Expr> positional = new ArrayList<>();
        Map<String, Expr> keywords = new LinkedHashMap<>();
        while (!peek().isOp(")")) {
            if (peek().kind() == Kind.NAME && tokens.get(at + 1).isOp("=")) {
                String name = next().text();
                next();
                keywords.put(name, expression(true));
            } else {
                if (!keywords.isEmpty()) {
                    throw error("a positional argument follows a keyword argument");
                }
                positional.add(expression(true));
            }
            if (!peek().isOp(",")) {
                break;
            }
            next();
        }
        expectOp(")");
        return new Expr.Arguments(positional, keywords);
    }

    private Expr filterExpression(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp("|")) {
                next();
                e = filter(e);
            } else if (t.isName("is")) {
                next();
                e = test(e);
            } else if (t.isOp("(")) {
                next();
                e = new Expr.Call(e, arguments());
            } else {
                return e;
            }
        }
    }

    private Expr.Filter filter(Expr value) {
        Token name = expectName();
        Builtins.FilterFunction f = Builtins.filter(name.text());
        if (f == null) {
            throw new TemplateError("no filter named '" + name.text() + "'", name.line());
        }
        Expr.Arguments args = Expr.Arguments.NONE;
        if (peek().isOp("(")) {
            next();
            args = arguments();
        }
        return new Expr.Filter(value, name.text(), f, args);
    }

    private List<Expr.Filter> filterChain() {
        List<Expr.Filter> filters = new ArrayList<>();
        filters.add(filter(null));
        while (peek().isOp("|")) {
            next();
            filters.add(filter(null));
        }
        return filters;
    }

    private List<Expr.Filter> filterChainAfterBar() {
        next();
        return filterChain();
    }

    private Expr test(Expr value) {
        boolean negated = false;
        if (peek().isName("not")) {
            next();
            negated = true;
        }
        Token name = next();
        String testName = name.kind() == Kind.NAME ? name.text()
                : name.kind() == Kind.OP ? name.text() : describe(name);
        Builtins.TestFunction f = Builtins.test(testName);
        if (f == null) {
            throw new TemplateError("no test named '" + testName + "'", name.line());
        }
        Expr.Arguments args = Expr.Arguments.NONE;
        Token t = peek();
        if (t.isOp("(")) {
            next();
            args = arguments();
        } else if (startsLoneTestArgument(t)) {
            args = new Expr.Arguments(List.of(postfix(primary())), Map.of());
        }
        return new Expr.Test(value, testName, f, args, negated);
    }

    private static boolean startsLoneTestArgument(Token t) {
        return switch (t.kind()) {
            case STRING, INT, FLOAT -> true;
            case NAME -> !Set.of("else", "or", "and", "if", "is", "in", "not").contains(t.text());
            case OP -> t.text().equals("[") || t.text().equals("{");
            default -> false;
        };
    }

    // ---- tokens

    private Token peek() {
        return tokens.get(at);
    }

    private Token next() {
        Token t = tokens.get(at);
        if (t.kind() != Kind.EOF) {
            at++;
        }
        return t;
    }

    private Token expectName() {
        Token t = next();
        if (t.kind() != Kind.NAME) {
            throw new TemplateError("expected a name, found '" + describe(t) + "'", t.line());
        }
        return t;
    }

    private void expectOp(String op) {
        Token t = next();
        if (!t.isOp(op)) {
            throw new TemplateError("expected '" + op + "', found '" + describe(t) + "'", t.line());
        }
    }

    private void expect(Kind kind, String what) {
        Token t = next();
        if (t.kind() != kind) {
            throw new TemplateError("expected '" + what + "', found '" + describe(t) + "'", t.line());
        }
    }

    private TemplateError error(String message) {
        return new TemplateError(message, peek().line());
    }

    private static String describe(Token t) {
        return switch (t.kind()) {
            case VAR_END -> "}}";
            case BLOCK_END -> "%}";
            case VAR_BEGIN -> "{{";
            case BLOCK_BEGIN -> "{%";
            case EOF -> "end of template";
            case STRING -> "'" + t.text() + "'";
            default -> t.text();
        };
    }
}
