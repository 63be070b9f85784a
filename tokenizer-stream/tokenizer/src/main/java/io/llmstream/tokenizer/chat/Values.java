package io.llmstream.tokenizer.chat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python's meaning of template values. A value is null (None), {@link Undefined}, Boolean, Long, Double, String,
 * List ({@link Tuple} for tuples), Map (dicts), {@link Namespace}, a loop or a {@link Callable}. Strings are measured,
 * indexed and sliced in code points, as Python does.
 */
final class Values {
    private Values() {
    }

    /** What a template sees for a name or key that does not exist: renders empty, is false, iterates nothing. */
    record Undefined(String description) {
        TemplateError error() {
            return new TemplateError(description + " is undefined");
        }
    }

    /** {@code namespace(...)}: the object whose attributes {@code set ns.x = ...} may change from inside a loop. */
    static final class Namespace {
        final Map<String, Object> attributes = new LinkedHashMap<>();
    }

    /** A Python tuple: a list that prints in parentheses and never equals a list. */
    static final class Tuple extends java.util.AbstractList<Object> {
        private final Object[] items;

        Tuple(Object... items) {
            this.items = items;
        }

        Tuple(List<?> items) {
            this.items = items.toArray();
        }

        @Override
        public Object get(int index) {
            return items[index];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    /** Deep copy of caller data into template values (Integer to Long, arrays and collections to lists). */
    static Object fromJava(Object o) {
        if (o == null || o instanceof String || o instanceof Boolean || o instanceof Long || o instanceof Double) {
            return o;
        }
        if (o instanceof Integer || o instanceof Short || o instanceof Byte) {
            return ((Number) o).longValue();
        }
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof CharSequence s) {
            return s.toString();
        }
        if (o instanceof Map<?, ?> m) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            m.forEach((k, v) -> copy.put(fromJava(k), fromJava(v)));
            return copy;
        }
        if (o instanceof Collection<?> c) {
            List<Object> copy = new ArrayList<>(c.size());
            c.forEach(v -> copy.add(fromJava(v)));
            return copy;
        }
        throw new IllegalArgumentException("a chat template variable cannot be a " + o.getClass().getSimpleName());
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    /** Python's str(): what {{ value }} prints (an undefined value prints nothing). */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    static String repr(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof Long) {
            return v.toString();
        }
        if (v instanceof Double d) {
            return floatRepr(d);
        }
        if (v instanceof String s) {
            return stringRepr(s);
        }
        if (v instanceof Undefined) {
            return "";
        }
        if (v instanceof List<?> list) {
            boolean tuple = v instanceof Tuple;
            StringBuilder sb = new StringBuilder(tuple ? "(" : "[");
            for (int i = 0; i < list.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(repr(list.get(i)));
            }
            return sb.append(tuple ? (list.size() == 1 ? ",)" : ")") : "]").toString();
        }
        if (v instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return sb.append('}').toString();
        }
        if (v instanceof Namespace) {
            return "<Namespace>";
        }
        return "<" + v.getClass().getSimpleName() + ">";
    }

    private static String stringRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        s.codePoints().forEach(c -> {
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == quote) {
                        sb.append('\\').appendCodePoint(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", c));
                    } else {
                        sb.appendCodePoint(c);
                    }
                }
            }
        });
        return sb.append(quote).toString();
    }

    /** Python's repr of a float: shortest digits, fixed notation for exponents -4..15, else 1e+16 style. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = b.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - b.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = b.abs().toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

    // ---- comparison

    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (isNumber(a) && isNumber(b)) {
            return (isInteger(a) && isInteger(b)) ? toLong(a) == toLong(b) : toDouble(a) == toDouble(b);
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size() || (a instanceof Tuple) != (b instanceof Tuple)) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return a != null && a.equals(b);
    }

    /** Python's ordering of two values; other pairs are a TypeError. */
    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return (isInteger(a) && isInteger(b)) ? Long.compare(toLong(a), toLong(b))
                    : Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String x && b instanceof String y) {
            return compareCodePoints(x, y);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return compare(x.get(i), y.get(i));
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        undefinedCheck(a);
        undefinedCheck(b);
        throw new TemplateError("cannot compare " + typeName(a) + " with " + typeName(b));
    }

    private static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) {
                return Integer.compare(a, b);
            }
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String sub)) {
                throw new TemplateError("'in <string>' requires a string, not " + typeName(item));
            }
            return s.contains(sub);
        }
        if (container instanceof Map<?, ?> m) {
            return m.containsKey(item);
        }
        if (container instanceof List<?> list) {
            for (Object o : list) {
                if (eq(o, item)) {
                    return true;
                }
            }
            return false;
        }
        undefinedCheck(container);
        throw new TemplateError("argument of type " + typeName(container) + " is not iterable");
    }

    // ---- arithmetic

    static Object binary(String op, Object a, Object b) {
        if (op.equals("~")) {
            return str(a) + str(b);
        }
        undefinedCheck(a);
        undefinedCheck(b);
        if (isNumber(a) && isNumber(b)) {
            return arithmetic(op, a, b);
        }
        switch (op) {
            case "+":
                if (a instanceof String x && b instanceof String y) {
                    return x + y;
                }
                if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> joined = new ArrayList<>(x);
                    joined.addAll(y);
                    return joined;
                }
                break;
            case "*":
                if (a instanceof String s && isInteger(b)) {
                    return s.repeat((int) Math.max(0, toLong(b)));
                }
                if (isInteger(a) && b instanceof String s) {
                    return s.repeat((int) Math.max(0, toLong(a)));
                }
                if (a instanceof List<?> x && isInteger(b)) {
                    List<Object> repeated = new ArrayList<>();
                    for (long i = 0; i < toLong(b); i++) {
                        repeated.addAll(x);
                    }
                    return repeated;
                }
                break;
            case "%":
                if (a instanceof String format) {
                    return Builtins.percentFormat(format, b instanceof List<?> list ? list : List.of(b));
                }
                break;
            default:
                break;
        }
        throw new TemplateError("unsupported operand types for " + op + ": " + typeName(a) + " and " + typeName(b));
    }

    private static Object arithmetic(String op, Object a, Object b) {
        if ((op.equals("/") || op.equals("//") || op.equals("%")) && toDouble(b) == 0) {
            throw new TemplateError("division by zero");
        }
        if (isInteger(a) && isInteger(b) && !op.equals("/")) {
            long x = toLong(a);
            long y = toLong(b);
            return switch (op) {
                case "+" -> x + y;
                case "-" -> x - y;
                case "*" -> x * y;
                case "//" -> Math.floorDiv(x, y);
                case "%" -> Math.floorMod(x, y);
                default -> y >= 0 ? (Object) power(x, y) : (Object) Math.pow(x, y); // **
            };
        }
        double x = toDouble(a);
        double y = toDouble(b);
        return switch (op) {
            case "+" -> x + y;
            case "-" -> x - y;
            case "*" -> x * y;
            case "/" -> x / y;
            case "//" -> Math.floor(x / y);
            case "%" -> {
                double m = x % y; // Python: the result takes the divisor's sign
                yield (m != 0 && (m < 0) != (y < 0)) ? m + y : m;
            }
            default -> Math.pow(x, y); // **
        };
    }

    private static long power(long base, long exponent) {
        long result = 1;
        for (long i = 0; i < exponent; i++) {
            result = Math.multiplyExact(result, base);
        }
        return result;
    }

    static Object negate(Object v) {
        undefinedCheck(v);
        if (isInteger(v)) {
            return -toLong(v);
        }
        if (v instanceof Double d) {
            return -d;
        }
        throw new TemplateError("bad operand type for unary -: " + typeName(v));
    }

    // ---- sequences

    /** What a for loop over the value visits: list items, dict keys, a string's characters; nothing if undefined. */
    static List<Object> iterate(Object v) {
        if (v instanceof List<?> list) {
            return new ArrayList<>(list);
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof String s) {
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(c -> chars.add(new String(Character.toChars(c))));
            return chars;
        }
        if (v instanceof Undefined) {
            return List.of();
        }
        throw new TemplateError(typeName(v) + " is not iterable");
    }

    static long length(Object v) {
        if (v instanceof String s) {
            return s.codePointCount(0, s.length());
        }
        if (v instanceof Collection<?> c) {
            return c.size();
        }
        if (v instanceof Map<?, ?> m) {
            return m.size();
        }
        if (v instanceof Undefined) {
            return 0;
        }
        throw new TemplateError("object of type " + typeName(v) + " has no len()");
    }

    /** Python's v[start:stop:step] for lists and strings; null bounds are open. */
    static Object slice(Object v, Object start, Object stop, Object step) {
        undefinedCheck(v);
        List<Object> items;
        if (v instanceof String s) {
            items = iterate(s);
        } else if (v instanceof List<?> list) {
            items = new ArrayList<>(list);
        } else {
            throw new TemplateError(typeName(v) + " cannot be sliced");
        }
        int n = items.size();
        long by = step == null ? 1 : toLong(step);
        if (by == 0) {
            throw new TemplateError("slice step cannot be zero");
        }
        long from;
        long to;
        if (by > 0) {
            from = start == null ? 0 : clamp(toLong(start), n, 0, n);
            to = stop == null ? n : clamp(toLong(stop), n, 0, n);
        } else {
            from = start == null ? n - 1 : clamp(toLong(start), n, -1, n - 1);
            to = stop == null ? -1 : clamp(toLong(stop), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        for (long i = from; by > 0 ? i < to : i > to; i += by) {
            out.add(items.get((int) i));
        }
        if (v instanceof String) {
            StringBuilder sb = new StringBuilder();
            out.forEach(c -> sb.append((String) c));
            return sb.toString();
        }
        return out;
    }

    private static long clamp(long index, int n, long low, long high) {
        long i = index < 0 ? index + n : index;
        return Math.max(low, Math.min(high, i));
    }

    // ---- types

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static boolean isInteger(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    static long toLong(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d) {
            return (long) d.doubleValue();
        }
        undefinedCheck(v);
        throw new TemplateError("an integer is required, not " + typeName(v));
    }

    static double toDouble(Object v) {
        if (v instanceof Double d) {
            return d;
        }
        return toLong(v);
    }

    static void undefinedCheck(Object v) {
        if (v instanceof Undefined u) {
            throw u.error();
        }
    }

    /** Python's name of the value's type, for error messages. */
    static String typeName(Object v) {
        return v == null ? "NoneType" : v instanceof Undefined ? "Undefined" : v instanceof Boolean ? "bool"
                : v instanceof Long ? "int" : v instanceof Double ? "float" : v instanceof String ? "str"
                : v instanceof Tuple ? "tuple" : v instanceof List ? "list" : v instanceof Map ? "dict"
                : v.getClass().getSimpleName();
    }
}
