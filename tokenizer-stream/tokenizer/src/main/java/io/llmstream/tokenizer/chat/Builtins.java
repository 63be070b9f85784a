package io.llmstream.tokenizer.chat;

import io.llmstream.tokenizer.chat.Values.Callable;
import io.llmstream.tokenizer.chat.Values.Namespace;
import io.llmstream.tokenizer.chat.Values.Undefined;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import static io.llmstream.tokenizer.chat.Values.eq;
import static io.llmstream.tokenizer.chat.Values.iterate;
import static io.llmstream.tokenizer.chat.Values.str;
import static io.llmstream.tokenizer.chat.Values.toLong;
import static io.llmstream.tokenizer.chat.Values.truthy;
import static io.llmstream.tokenizer.chat.Values.typeName;

/**
 * Jinja's filters and tests, the Python methods templates call on strings, dicts and lists, and the globals of
 * transformers' chat environment ({@code raise_exception}, {@code strftime_now}, {@code namespace}, {@code range}).
 * {@code tojson} is transformers' (json.dumps with ensure_ascii false), not Jinja's HTML-safe one. Lists and dicts
 * cannot be changed (transformers renders in Jinja's immutable sandbox).
 */
final class Builtins {
    private Builtins() {
    }

    interface FilterFunction {
        Object apply(Object value, Args args);
    }

    interface TestFunction {
        boolean test(Object value, Args args);
    }

    /** Evaluated call arguments, with Python's positional-or-keyword lookup. */
    record Args(List<Object> positional, Map<String, Object> keywords) {
        static final Args NONE = new Args(List.of(), Map.of());

        Object get(int index, String name, Object fallback) {
            if (index < positional.size()) {
                return positional.get(index);
            }
            return keywords.getOrDefault(name, fallback);
        }

        Object required(int index, String name) {
            Object v = get(index, name, MISSING);
            if (v == MISSING) {
                throw new TemplateError("missing argument '" + name + "'");
            }
            return v;
        }
    }

    private static final Object MISSING = new Object();
    private static final Pattern WORD_BEGINNING = Pattern.compile("(?<=[-\\s(\\{\\[<])");
    private static final Pattern WORDS = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);

    // ---- filters

    static FilterFunction filter(String name) {
        return switch (name) {
            case "abs" -> (v, a) -> Values.isInteger(v) ? (Object) Math.abs(toLong(v))
                    : (Object) Math.abs(Values.toDouble(v));
            case "attr" -> (v, a) -> attribute(v, str(a.required(0, "name")));
            case "capitalize" -> (v, a) -> capitalize(str(v));
            case "count", "length" -> (v, a) -> Values.length(v);
            case "d", "default" -> (v, a) -> {
                boolean onFalse = truthy(a.get(1, "boolean", false));
                return (v instanceof Undefined || (onFalse && !truthy(v))) ? a.get(0, "default_value", "") : v;
            };
            case "dictsort" -> (v, a) -> {
                List<Object> items = items(v);
                int by = str(a.get(2, "by", "key")).equals("value") ? 1 : 0;
                items.sort(Comparator.comparing(i -> sortKey(((List<?>) i).get(by), a.get(0, "case_sensitive",
                        false)), Values::compare));
                return truthy(a.get(3, "reverse", false)) ? reversed(items) : items;
            };
            case "e", "escape" -> (v, a) -> str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace("\"", "&#34;").replace("'", "&#39;");
            case "first" -> (v, a) -> {
                List<Object> items = iterate(v);
                return items.isEmpty() ? new Undefined("the first item of an empty sequence") : items.get(0);
            };
            case "last" -> (v, a) -> {
                List<Object> items = iterate(v);
                return items.isEmpty() ? new Undefined("the last item of an empty sequence")
                        : items.get(items.size() - 1);
            };
            case "float" -> (v, a) -> {
                try {
                    return v instanceof String s ? Double.parseDouble(s.strip()) : Values.toDouble(v);
                } catch (RuntimeException e) {
                    return a.get(0, "default", 0.0);
                }
            };
            case "int" -> (v, a) -> {
                try {
                    return v instanceof String s ? Long.parseLong(s.strip(), (int) toLong(a.get(1, "base", 10L)))
                            : toLong(v);
                } catch (RuntimeException e) {
                    return a.get(0, "default", 0L);
                }
            };
            case "format" -> (v, a) -> percentFormat(str(v), a.positional());
            case "indent" -> Builtins::indent;
            case "items" -> (v, a) -> v instanceof Undefined ? List.of() : items(v);
            case "join" -> (v, a) -> {
                Object attribute = a.get(1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                String separator = str(a.get(0, "d", ""));
                boolean first = true;
                for (Object item : iterate(v)) {
                    sb.append(first ? "" : separator).append(str(attribute == null ? item : item(item, attribute)));
                    first = false;
                }
                return sb.toString();
            };
            case "list" -> (v, a) -> iterate(v);
            case "lower" -> (v, a) -> str(v).toLowerCase(Locale.ROOT);
            case "upper" -> (v, a) -> str(v).toUpperCase(Locale.ROOT);
            case "map" -> Builtins::map;
            case "max", "min" -> (v, a) -> {
                List<Object> items = iterate(v);
                if (items.isEmpty()) {
                    return new Undefined("the " + name + " of an empty sequence");
                }
                Object attribute = a.get(1, "attribute", null);
                Comparator<Object> order = Comparator.comparing(
                        i -> sortKey(attribute == null ? i : item(i, attribute), a.get(0, "case_sensitive", false)),
                        Values::compare);
                return name.equals("max") ? items.stream().max(order).get() : items.stream().min(order).get();
            };
            case "reject", "select" -> (v, a) -> select(v, a, name.equals("select"), false);
            case "rejectattr", "selectattr" -> (v, a) -> select(v, a, name.equals("selectattr"), true);
            case "replace" -> (v, a) -> replace(str(v), str(a.required(0, "old")), str(a.required(1, "new")),
                    toLong(a.get(2, "count", -1L)));
            case "reverse" -> (v, a) -> v instanceof String s ? Values.slice(s, null, null, -1L)
                    : reversed(iterate(v));
            case "round" -> (v, a) -> {
                int precision = (int) toLong(a.get(0, "precision", 0L));
                String method = str(a.get(1, "method", "common"));
                // Python's round(): half to even on the float's exact binary value
                java.math.RoundingMode mode = method.equals("floor") ? java.math.RoundingMode.FLOOR
                        : method.equals("ceil") ? java.math.RoundingMode.CEILING : java.math.RoundingMode.HALF_EVEN;
                return new java.math.BigDecimal(Values.toDouble(v)).setScale(precision, mode).doubleValue();
            };
            case "safe", "string" -> (v, a) -> str(v);
            case "sort" -> (v, a) -> {
                List<Object> items = iterate(v);
                Object attribute = a.get(2, "attribute", null);
                items.sort(Comparator.comparing(i -> sortKey(attribute == null ? i : item(i, attribute),
                        a.get(1, "case_sensitive", false)), Values::compare));
                return truthy(a.get(0, "reverse", false)) ? reversed(items) : items;
            };
            case "sum" -> (v, a) -> {
                Object attribute = a.get(0, "attribute", null);
                Object total = a.get(1, "start", 0L);
                for (Object item : iterate(v)) {
                    total = Values.binary("+", total, attribute == null ? item : item(item, attribute));
                }
                return total;
            };
            case "title" -> (v, a) -> title(str(v));
            case "tojson" -> (v, a) -> Json.dumps(v, truthy(a.get(0, "ensure_ascii", false)), a.get(1, "indent", null),
                    truthy(a.get(3, "sort_keys", false)));
            case "trim" -> (v, a) -> strip(str(v), a.get(0, "chars", null), true, true);
            case "unique" -> (v, a) -> {
                List<Object> out = new ArrayList<>();
                Object attribute = a.get(1, "attribute", null);
                Object caseSensitive = a.get(0, "case_sensitive", false);
                List<Object> seen = new ArrayList<>();
                for (Object item : iterate(v)) {
                    Object key = sortKey(attribute == null ? item : item(item, attribute), caseSensitive);
                    if (seen.stream().noneMatch(s -> eq(s, key))) {
                        seen.add(key);
                        out.add(item);
                    }
                }
                return out;
            };
            case "wordcount" -> (v, a) -> WORDS.matcher(str(v)).results().count();
            default -> null;
        };
    }

    private static Object sortKey(Object v, Object caseSensitive) {
        return v instanceof String s && !truthy(caseSensitive) ? s.toLowerCase(Locale.ROOT) : v;
    }

    private static List<Object> reversed(List<Object> items) {
        List<Object> out = new ArrayList<>(items);
        java.util.Collections.reverse(out);
        return out;
    }

    private static List<Object> items(Object v) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new TemplateError("items() needs a dict, not " + typeName(v));
        }
        List<Object> out = new ArrayList<>();
        m.forEach((k, x) -> out.add(new Values.Tuple(k, x)));
        return out;
    }

    private static Object indent(Object v, Args a) {
        Object width = a.get(0, "width", 4L);
        String pad = width instanceof String s ? s : " ".repeat((int) toLong(width));
        boolean first = truthy(a.get(1, "first", false));
        boolean blank = truthy(a.get(2, "blank", false));
        String s = str(v);
        String[] lines = s.split("\n", -1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                sb.append('\n');
            }
            boolean indentIt = (i > 0 || first) && (blank || !lines[i].isBlank());
            sb.append(indentIt ? pad : "").append(lines[i]);
        }
        return sb.toString();
    }

    private static Object map(Object v, Args a) {
        List<Object> out = new ArrayList<>();
        if (a.keywords().containsKey("attribute")) {
            Object attribute = a.keywords().get("attribute");
            Object fallback = a.keywords().getOrDefault("default", MISSING);
            for (Object item : iterate(v)) {
                Object x = item(item, attribute);
                out.add(x instanceof Undefined && fallback != MISSING ? fallback : x);
            }
            return out;
        }
        String name = str(a.required(0, "filter"));
        FilterFunction f = filter(name);
        if (f == null) {
            throw new TemplateError("no filter named '" + name + "'");
        }
        Args rest = new Args(a.positional().subList(1, a.positional().size()), a.keywords());
        for (Object item : iterate(v)) {
            out.add(f.apply(item, rest));
        }
        return out;
    }

    private static Object select(Object v, Args a, boolean keep, boolean byAttribute) {
        int testAt = byAttribute ? 1 : 0;
        Object attribute = byAttribute ? a.required(0, "attribute") : null;
        TestFunction test;
        if (a.positional().size() > testAt) {
            String name = str(a.positional().get(testAt));
            test = test(name);
            if (test == null) {
                throw new TemplateError("no test named '" + name + "'");
            }
        } else {
            test = (x, unused) -> truthy(x);
        }
        List<Object> testArgs = a.positional().size() > testAt + 1
                ? a.positional().subList(testAt + 1, a.positional().size()) : List.of();
        Args args = new Args(testArgs, Map.of());
        List<Object> out = new ArrayList<>();
        for (Object item : iterate(v)) {
            if (test.test(byAttribute ? item(item, attribute) : item, args) == keep) {
                out.add(item);
            }
        }
        return out;
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return new String(Character.toChars(Character.toTitleCase(first)))
                + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    /** Jinja's title: each word (after - space ( { [ <) capitalized. */
    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        for (String word : WORD_BEGINNING.split(s)) {
            sb.append(capitalize(word));
        }
        return sb.toString();
    }

    static String replace(String s, String old, String replacement, long count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int i = s.indexOf(old, from);
            if (i < 0) {
                break;
            }
            sb.append(s, from, i).append(replacement);
            from = i + old.length();
            if (old.isEmpty()) {
                if (from < s.length()) {
                    sb.append(s.charAt(from));
                }
                from++;
            }
        }
        return from <= s.length() ? sb.append(s.substring(from)).toString() : sb.toString();
    }

    /** printf-style {@code "%s" % value} and the format filter: %s %r %d %i %f %%. */
    static String percentFormat(String format, List<?> values) {
        StringBuilder sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                sb.append(c);
                continue;
            }
            char spec = format.charAt(++i);
            if (spec == '%') {
                sb.append('%');
                continue;
            }
            if (next >= values.size()) {
                throw new TemplateError("not enough arguments for format string");
            }
            Object v = values.get(next++);
            switch (spec) {
                case 's' -> sb.append(str(v));
                case 'r' -> sb.append(Values.repr(v));
                case 'd', 'i' -> sb.append(toLong(v));
                case 'f' -> sb.append(String.format(Locale.ROOT, "%f", Values.toDouble(v)));
                default -> throw new TemplateError("unsupported format character '" + spec + "'");
            }
        }
        return sb.toString();
    }

    // ---- tests

    static TestFunction test(String name) {
        return switch (name) {
            case "boolean" -> (v, a) -> v instanceof Boolean;
            case "callable" -> (v, a) -> v instanceof Callable;
            case "defined" -> (v, a) -> !(v instanceof Undefined);
            case "undefined" -> (v, a) -> v instanceof Undefined;
            case "divisibleby" -> (v, a) -> toLong(v) % toLong(a.required(0, "num")) == 0;
            case "eq", "equalto", "==" -> (v, a) -> eq(v, a.required(0, "other"));
            case "ne", "!=" -> (v, a) -> !eq(v, a.required(0, "other"));
            case "lt", "lessthan", "<" -> (v, a) -> Values.compare(v, a.required(0, "other")) < 0;
            case "le", "<=" -> (v, a) -> Values.compare(v, a.required(0, "other")) <= 0;
            case "gt", "greaterthan", ">" -> (v, a) -> Values.compare(v, a.required(0, "other")) > 0;
            case "ge", ">=" -> (v, a) -> Values.compare(v, a.required(0, "other")) >= 0;
            case "even" -> (v, a) -> toLong(v) % 2 == 0;
            case "odd" -> (v, a) -> toLong(v) % 2 != 0;
            case "false" -> (v, a) -> Boolean.FALSE.equals(v);
            case "true" -> (v, a) -> Boolean.TRUE.equals(v);
            case "float" -> (v, a) -> v instanceof Double;
            case "integer" -> (v, a) -> v instanceof Long;
            case "number" -> (v, a) -> Values.isNumber(v);
            case "in" -> (v, a) -> Values.contains(a.required(0, "seq"), v);
            case "iterable" -> (v, a) -> v instanceof List || v instanceof Map || v instanceof String
                    || v instanceof Undefined;
            case "sequence" -> (v, a) -> v instanceof List || v instanceof Map || v instanceof String;
            case "mapping" -> (v, a) -> v instanceof Map;
            case "none" -> (v, a) -> v == null;
            case "string" -> (v, a) -> v instanceof String;
            case "lower" -> (v, a) -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> (v, a) -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            case "sameas" -> (v, a) -> {
                Object other = a.required(0, "other");
                return v == other || (v instanceof Boolean && v.equals(other));
            };
            default -> null;
        };
    }

    // ---- attributes, items and methods

    /** {@code object.name}: a method or attribute of the object, else its item {@code name}. */
    static Object attribute(Object object, String name) {
        Values.undefinedCheck(object);
        Object method = method(object, name);
        if (method != null) {
            return method;
        }
        if (object instanceof Map<?, ?> m) {
            return m.containsKey(name) ? m.get(name) : new Undefined("'dict object' has no attribute '" + name + "'");
        }
        if (object instanceof Namespace ns) {
            return ns.attributes.containsKey(name) ? ns.attributes.get(name)
                    : new Undefined("'Namespace' has no attribute '" + name + "'");
        }
        if (object instanceof Renderer.Loop loop) {
            return loop.attribute(name);
        }
        return new Undefined("'" + typeName(object) + " object' has no attribute '" + name + "'");
    }

    /** {@code object[key]}: the item, else (for a string key) the attribute. */
    static Object item(Object object, Object key) {
        Values.undefinedCheck(object);
        if (object instanceof Map<?, ?> m) {
            if (m.containsKey(key)) {
                return m.get(key);
            }
        } else if (object instanceof List<?> list && Values.isInteger(key)) {
            long i = toLong(key);
            i = i < 0 ? i + list.size() : i;
            if (i >= 0 && i < list.size()) {
                return list.get((int) i);
            }
            return new Undefined("list index " + key);
        } else if (object instanceof String s && Values.isInteger(key)) {
            List<Object> chars = iterate(s);
            long i = toLong(key);
            i = i < 0 ? i + chars.size() : i;
            return i >= 0 && i < chars.size() ? chars.get((int) i) : new Undefined("string index " + key);
        }
        if (key instanceof String name) {
            Object a = attribute(object, name);
            if (!(a instanceof Undefined)) {
                return a;
            }
        }
        return new Undefined(typeName(object) + " object has no element " + Values.repr(key));
    }

    private static final java.util.Set<String> MUTATORS = java.util.Set.of("append", "extend", "insert", "pop",
            "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem");

    /** A bound method of a string, dict or list, or null when the object has none of that name. */
    private static Callable method(Object object, String name) {
        if (object instanceof String s) {
            return stringMethod(s, name);
        }
        if ((object instanceof Map || object instanceof List) && MUTATORS.contains(name)) {
            return (args, kwargs) -> {
                throw new TemplateError("access to attribute '" + name + "' of '" + typeName(object)
                        + "' object is unsafe (templates may not change their data)");
            };
        }
        if (object instanceof Map<?, ?> m) {
            return switch (name) {
                case "get" -> (args, kwargs) -> {
                    Args a = new Args(args, kwargs);
                    Object key = a.required(0, "key");
                    return m.containsKey(key) ? m.get(key) : a.get(1, "default", null);
                };
                case "items" -> (args, kwargs) -> items(m);
                case "keys" -> (args, kwargs) -> new ArrayList<Object>(m.keySet());
                case "values" -> (args, kwargs) -> new ArrayList<Object>(m.values());
                default -> null;
            };
        }
        if (object instanceof List<?> list) {
            return switch (name) {
                case "count" -> (args, kwargs) -> list.stream().filter(x -> eq(x, args.get(0))).count();
                case "index" -> (args, kwargs) -> {
                    for (int i = 0; i < list.size(); i++) {
                        if (eq(list.get(i), args.get(0))) {
                            return (long) i;
                        }
                    }
                    throw new TemplateError(Values.repr(args.get(0)) + " is not in list");
                };
                default -> null;
            };
        }
        return null;
    }

    private static Callable stringMethod(String s, String name) {
        return switch (name) {
            case "startswith", "endswith" -> (args, kwargs) -> {
                Object prefix = new Args(args, kwargs).required(0, "prefix");
                List<Object> options = prefix instanceof List<?> l ? new ArrayList<>(l) : List.of(prefix);
                for (Object o : options) {
                    if (name.equals("startswith") ? s.startsWith(str(o)) : s.endsWith(str(o))) {
                        return true;
                    }
                }
                return false;
            };
            case "strip", "lstrip", "rstrip" -> (args, kwargs) -> strip(s, new Args(args, kwargs).get(0, "chars", null),
                    !name.equals("rstrip"), !name.equals("lstrip"));
            case "split", "rsplit" -> (args, kwargs) -> {
                Args a = new Args(args, kwargs);
                return split(s, a.get(0, "sep", null), toLong(a.get(1, "maxsplit", -1L)), name.equals("rsplit"));
            };
            case "splitlines" -> (args, kwargs) -> {
                List<Object> lines = new ArrayList<>(List.of((Object[]) s.split("\r\n|\r|\n", -1)));
                if (!lines.isEmpty() && "".equals(lines.get(lines.size() - 1))) {
                    lines.remove(lines.size() - 1);
                }
                return lines;
            };
            case "upper" -> (args, kwargs) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (args, kwargs) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (args, kwargs) -> pythonTitle(s);
            case "capitalize" -> (args, kwargs) -> capitalize(s);
            case "replace" -> (args, kwargs) -> {
                Args a = new Args(args, kwargs);
                return replace(s, str(a.required(0, "old")), str(a.required(1, "new")),
                        toLong(a.get(2, "count", -1L)));
            };
            case "find", "rfind", "index", "rindex" -> (args, kwargs) -> {
                String sub = str(args.get(0));
                int i = name.startsWith("r") ? s.lastIndexOf(sub) : s.indexOf(sub);
                if (i < 0 && name.contains("index")) {
                    throw new TemplateError("substring not found");
                }
                return i < 0 ? -1L : (long) s.codePointCount(0, i);
            };
            case "count" -> (args, kwargs) -> {
                String sub = str(args.get(0));
                if (sub.isEmpty()) {
                    return Values.length(s) + 1;
                }
                long n = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                    n++;
                }
                return n;
            };
            case "join" -> (args, kwargs) -> {
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object o : iterate(args.get(0))) {
                    sb.append(first ? "" : s).append(str(o));
                    first = false;
                }
                return sb.toString();
            };
            case "isdigit" -> (args, kwargs) -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> (args, kwargs) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> (args, kwargs) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> (args, kwargs) -> !s.isEmpty() && s.codePoints().allMatch(Builtins::isPythonSpace);
            case "islower" -> (args, kwargs) -> s.chars().anyMatch(Character::isLetter)
                    && s.equals(s.toLowerCase(Locale.ROOT));
            case "isupper" -> (args, kwargs) -> s.chars().anyMatch(Character::isLetter)
                    && s.equals(s.toUpperCase(Locale.ROOT));
            default -> null;
        };
    }

    private static String pythonTitle(String s) {
        StringBuilder sb = new StringBuilder();
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            sb.appendCodePoint(previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            previousCased = cased;
            i += Character.charCount(c);
        }
        return sb.toString();
    }

    static boolean isPythonSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || (c >= 0x1c && c <= 0x1f) || c == 0x85;
    }

    /** Python's str.strip family: whitespace, or any of {@code chars}. */
    static String strip(String s, Object chars, boolean left, boolean right) {
        String set = chars == null ? null : str(chars);
        int start = 0;
        int end = s.length();
        while (left && start < end && stripped(s.codePointAt(start), set)) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && stripped(s.codePointBefore(end), set)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int c, String set) {
        return set == null ? isPythonSpace(c) : set.indexOf(c) >= 0;
    }

    private static List<Object> split(String s, Object sep, long maxSplit, boolean fromRight) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            String[] words = s.strip().isEmpty() ? new String[0] : strip(s, null, true, true).split("[\\s\\x1c-\\x1f\\x85]+");
            if (maxSplit < 0 || words.length <= maxSplit + 1) {
                out.addAll(List.of((Object[]) words));
                return out;
            }
            // rare: a limited whitespace split; keep the rest of the string as Python does
            String rest = strip(s, null, !fromRight, fromRight);
            for (long n = 0; n < maxSplit; n++) {
                String[] parts = fromRight ? rest.split("\\s+(?=\\S*$)", 2) : rest.split("\\s+", 2);
                if (fromRight) {
                    out.add(0, parts[1]);
                } else {
                    out.add(parts[0]);
                }
                rest = fromRight ? parts[0] : parts[1];
            }
            if (fromRight) {
                out.add(0, rest);
            } else {
                out.add(rest);
            }
            return out;
        }
        String separator = str(sep);
        if (separator.isEmpty()) {
            throw new TemplateError("empty separator");
        }
        if (!fromRight) {
            int from = 0;
            for (long n = 0; maxSplit < 0 || n < maxSplit; n++) {
                int i = s.indexOf(separator, from);
                if (i < 0) {
                    break;
                }
                out.add(s.substring(from, i));
                from = i + separator.length();
            }
            out.add(s.substring(from));
            return out;
        }
        int to = s.length();
        for (long n = 0; maxSplit < 0 || n < maxSplit; n++) {
            int i = s.lastIndexOf(separator, to - separator.length());
            if (i < 0) {
                break;
            }
            out.add(0, s.substring(i + separator.length(), to));
            to = i;
        }
        out.add(0, s.substring(0, to));
        return out;
    }

    // ---- globals

    static Map<String, Object> globals() {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("raise_exception", (Callable) (args, kwargs) -> {
            throw new TemplateError("the chat template raised: " + str(args.isEmpty() ? "" : args.get(0)));
        });
        g.put("strftime_now", (Callable) (args, kwargs) -> strftime(str(args.get(0)), LocalDateTime.now()));
        g.put("namespace", (Callable) (args, kwargs) -> {
            Namespace ns = new Namespace();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> ns.attributes.put(str(k), v));
                }
            }
            ns.attributes.putAll(kwargs);
            return ns;
        });
        g.put("dict", (Callable) (args, kwargs) -> new LinkedHashMap<Object, Object>(kwargs));
        g.put("range", (Callable) (args, kwargs) -> {
            long start = args.size() > 1 ? toLong(args.get(0)) : 0;
            long stop = toLong(args.get(args.size() > 1 ? 1 : 0));
            long step = args.size() > 2 ? toLong(args.get(2)) : 1;
            if (step == 0) {
                throw new TemplateError("range() step must not be zero");
            }
            List<Object> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                out.add(i);
            }
            return out;
        });
        return g;
    }

    /** Python's strftime for the codes chat templates use (dates in "Today Date: 26 Jul 2024" lines). */
    static String strftime(String format, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                sb.append(c);
                continue;
            }
            char code = format.charAt(++i);
            boolean noPad = code == '-' && i + 1 < format.length();
            if (noPad) {
                code = format.charAt(++i);
            }
            String two = noPad ? "%d" : "%02d";
            switch (code) {
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> sb.append(String.format(two, t.getMonthValue()));
                case 'd' -> sb.append(String.format(two, t.getDayOfMonth()));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'H' -> sb.append(String.format(two, t.getHour()));
                case 'I' -> sb.append(String.format(two, (t.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format(two, t.getMinute()));
                case 'S' -> sb.append(String.format(two, t.getSecond()));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> sb.append(String.format(noPad ? "%d" : "%03d", t.getDayOfYear()));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case '%' -> sb.append('%');
                default -> throw new TemplateError("strftime_now: unsupported code %" + code);
            }
        }
        return sb.toString();
    }
}
