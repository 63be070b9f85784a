package io.llmstream.tokenizer.chat;

import io.llmstream.tokenizer.chat.Values.Callable;
import io.llmstream.tokenizer.chat.Values.Namespace;
import io.llmstream.tokenizer.chat.Values.Undefined;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Walks a parsed template. Scopes follow Jinja: each for-loop iteration and each macro call gets a fresh scope over
 * its parent, {@code if} blocks do not, so {@code set} inside a loop is forgotten after it (hence namespaces).
 */
final class Renderer {
    private enum Flow { NORMAL, BREAK, CONTINUE }

    private static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return new Undefined("'" + name + "'");
        }
    }

    /** The {@code loop} variable of a for loop. */
    static final class Loop {
        private final List<Object> items;
        private int index0;

        Loop(List<Object> items) {
            this.items = items;
        }

        Object attribute(String name) {
            int n = items.size();
            return switch (name) {
                case "index0" -> (long) index0;
                case "index" -> (long) index0 + 1;
                case "revindex0" -> (long) (n - index0 - 1);
                case "revindex" -> (long) (n - index0);
                case "first" -> index0 == 0;
                case "last" -> index0 == n - 1;
                case "length" -> (long) n;
                case "depth" -> 1L;
                case "depth0" -> 0L;
                case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("'loop.previtem'");
                case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : new Undefined("'loop.nextitem'");
                case "cycle" -> (Callable) (args, kwargs) -> {
                    if (args.isEmpty()) {
                        throw new TemplateError("loop.cycle() needs at least one value");
                    }
                    return args.get(index0 % args.size());
                };
                default -> new Undefined("'loop." + name + "'");
            };
        }
    }

    private final StringBuilder out = new StringBuilder();

    private Renderer() {
    }

    static String render(List<Node> template, Map<String, Object> variables) {
        Scope globals = new Scope(null);
        globals.vars.putAll(Builtins.globals());
        Scope top = new Scope(globals);
        top.vars.putAll(variables);
        Renderer r = new Renderer();
        r.body(template, top);
        return r.out.toString();
    }

    private Flow body(List<Node> nodes, Scope scope) {
        for (Node node : nodes) {
            Flow flow;
            try {
                flow = statement(node, scope);
            } catch (TemplateError e) {
                throw e.line > 0 ? e : new TemplateError(e.getMessage(), node.line());
            } catch (ArithmeticException e) {
                throw new TemplateError(e.getMessage(), node.line());
            }
            if (flow != Flow.NORMAL) {
                return flow;
            }
        }
        return Flow.NORMAL;
    }

    private Flow statement(Node node, Scope scope) {
        if (node instanceof Node.Text t) {
            out.append(t.text());
        } else if (node instanceof Node.Print p) {
            out.append(Values.str(eval(p.value(), scope)));
        } else if (node instanceof Node.If s) {
            for (int i = 0; i < s.conditions().size(); i++) {
                if (Values.truthy(eval(s.conditions().get(i), scope))) {
                    return body(s.bodies().get(i), scope);
                }
            }
            return body(s.orElse(), scope);
        } else if (node instanceof Node.For f) {
            return forLoop(f, scope);
        } else if (node instanceof Node.Set s) {
            assign(s.targets(), eval(s.value(), scope), scope);
        } else if (node instanceof Node.SetAttribute s) {
            Object target = scope.lookup(s.object());
            if (!(target instanceof Namespace ns)) {
                throw new TemplateError("cannot assign attribute on non-namespace object '" + s.object() + "'");
            }
            ns.attributes.put(s.attribute(), eval(s.value(), scope));
        } else if (node instanceof Node.SetBlock s) {
            scope.vars.put(s.target(), filtered(s.filters(), captured(s.body(), scope), scope));
        } else if (node instanceof Node.FilterBlock f) {
            out.append(Values.str(filtered(f.filters(), captured(f.body(), scope), scope)));
        } else if (node instanceof Node.Macro m) {
            scope.vars.put(m.name(), macro(m, scope));
        } else if (node instanceof Node.Break) {
            return Flow.BREAK;
        } else if (node instanceof Node.Continue) {
            return Flow.CONTINUE;
        }
        return Flow.NORMAL;
    }

    private Flow forLoop(Node.For f, Scope scope) {
        List<Object> items = Values.iterate(eval(f.iterable(), scope));
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope s = new Scope(scope);
                assign(f.targets(), item, s);
                if (Values.truthy(eval(f.filter(), s))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            return body(f.orElse(), scope);
        }
        Loop loop = new Loop(items);
        for (int i = 0; i < items.size(); i++) {
            loop.index0 = i;
            Scope s = new Scope(scope);
            s.vars.put("loop", loop);
            assign(f.targets(), items.get(i), s);
            if (body(f.body(), s) == Flow.BREAK) {
                break;
            }
        }
        return Flow.NORMAL;
    }

    private static void assign(List<String> targets, Object value, Scope scope) {
        if (targets.size() == 1) {
            scope.vars.put(targets.get(0), value);
            return;
        }
        List<Object> parts = Values.iterate(value);
        if (parts.size() != targets.size()) {
            throw new TemplateError("cannot unpack " + parts.size() + " values into " + targets.size() + " names");
        }
        for (int i = 0; i < targets.size(); i++) {
            scope.vars.put(targets.get(i), parts.get(i));
        }
    }

    private String captured(List<Node> nodes, Scope scope) {
        int start = out.length();
        body(nodes, scope);
        String text = out.substring(start);
        out.setLength(start);
        return text;
    }

    private Object filtered(List<Expr.Filter> filters, Object value, Scope scope) {
        for (Expr.Filter f : filters) {
            value = f.function().apply(value, arguments(f.arguments(), scope));
        }
        return value;
    }

    private Callable macro(Node.Macro m, Scope definedIn) {
        return (args, kwargs) -> {
            Scope s = new Scope(definedIn);
            for (int i = 0; i < m.parameters().size(); i++) {
                String name = m.parameters().get(i);
                Object v = i < args.size() ? args.get(i) : kwargs.containsKey(name) ? kwargs.get(name)
                        : m.defaults().get(i) != null ? eval(m.defaults().get(i), definedIn)
                        : new Undefined("'" + name + "'");
                s.vars.put(name, v);
            }
            Renderer inner = new Renderer();
            inner.body(m.body(), s);
            return inner.out.toString();
        };
    }

    // ---- expressions

    private Object eval(Expr e, Scope scope) {
        if (e instanceof Expr.Constant c) {
            return c.value();
        }
        if (e instanceof Expr.Name n) {
            return scope.lookup(n.name());
        }
        if (e instanceof Expr.Attribute a) {
            return Builtins.attribute(eval(a.object(), scope), a.name());
        }
        if (e instanceof Expr.Item i) {
            return Builtins.item(eval(i.object(), scope), eval(i.key(), scope));
        }
        if (e instanceof Expr.Binary b) {
            return Values.binary(b.operator(), eval(b.left(), scope), eval(b.right(), scope));
        }
        if (e instanceof Expr.Filter f) {
            return f.function().apply(eval(f.value(), scope), arguments(f.arguments(), scope));
        }
        if (e instanceof Expr.Test t) {
            return t.function().test(eval(t.value(), scope), arguments(t.arguments(), scope)) != t.negated();
        }
        if (e instanceof Expr.Compare c) {
            return compare(c, scope);
        }
        if (e instanceof Expr.Not n) {
            return !Values.truthy(eval(n.value(), scope));
        }
        if (e instanceof Expr.And a) {
            Object left = eval(a.left(), scope);
            return Values.truthy(left) ? eval(a.right(), scope) : left;
        }
        if (e instanceof Expr.Or o) {
            Object left = eval(o.left(), scope);
            return Values.truthy(left) ? left : eval(o.right(), scope);
        }
        if (e instanceof Expr.Conditional c) {
            return Values.truthy(eval(c.test(), scope)) ? eval(c.then(), scope)
                    : c.orElse() == null ? new Undefined("the else branch of a conditional") : eval(c.orElse(), scope);
        }
        if (e instanceof Expr.Call c) {
            Object f = eval(c.function(), scope);
            if (!(f instanceof Callable callable)) {
                Values.undefinedCheck(f);
                throw new TemplateError("'" + Values.typeName(f) + "' object is not callable");
            }
            Builtins.Args args = arguments(c.arguments(), scope);
            return callable.call(args.positional(), args.keywords());
        }
        if (e instanceof Expr.Negate n) {
            return Values.negate(eval(n.value(), scope));
        }
        if (e instanceof Expr.Slice s) {
            return Values.slice(eval(s.object(), scope), optional(s.start(), scope), optional(s.stop(), scope),
                    optional(s.step(), scope));
        }
        if (e instanceof Expr.ListOf l) {
            List<Object> items = new ArrayList<>(l.items().size());
            for (Expr item : l.items()) {
                items.add(eval(item, scope));
            }
            return l.tuple() ? new Values.Tuple(items) : items;
        }
        Expr.DictOf d = (Expr.DictOf) e;
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < d.keys().size(); i++) {
            map.put(eval(d.keys().get(i), scope), eval(d.values().get(i), scope));
        }
        return map;
    }

    private Object optional(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private boolean compare(Expr.Compare c, Scope scope) {
        Object left = eval(c.first(), scope);
        for (int i = 0; i < c.operators().size(); i++) {
            Object right = eval(c.rest().get(i), scope);
            boolean holds = switch (c.operators().get(i)) {
                case "==" -> Values.eq(left, right);
                case "!=" -> !Values.eq(left, right);
                case "<" -> Values.compare(left, right) < 0;
                case ">" -> Values.compare(left, right) > 0;
                case "<=" -> Values.compare(left, right) <= 0;
                case ">=" -> Values.compare(left, right) >= 0;
                case "in" -> Values.contains(right, left);
                case "not in" -> !Values.contains(right, left);
                default -> throw new TemplateError("unknown comparison " + c.operators().get(i));
            };
            if (!holds) {
                return false;
            }
            left = right;
        }
        return true;
    }

    private Builtins.Args arguments(Expr.Arguments a, Scope scope) {
        if (a.positional().isEmpty() && a.keywords().isEmpty()) {
            return Builtins.Args.NONE;
        }
        List<Object> positional = new ArrayList<>(a.positional().size());
        for (Expr e : a.positional()) {
            positional.add(eval(e, scope));
        }
        Map<String, Object> keywords = new LinkedHashMap<>();
        a.keywords().forEach((k, v) -> keywords.put(k, eval(v, scope)));
        return new Builtins.Args(positional, keywords);
    }
}
