package io.llmstream.tokenizer.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * transformers' {@code tojson} filter: Python's {@code json.dumps(value, ensure_ascii=False, indent=indent,
 * sort_keys=sort_keys)}, so separators are {@code ", "} and {@code ": "} without indent, {@code ","} with it.
 */
final class Json {
    private Json() {
    }

    static String dumps(Object value, boolean ensureAscii, Object indent, boolean sortKeys) {
        String pad = indent == null ? null : indent instanceof String s ? s : " ".repeat((int) Values.toLong(indent));
        StringBuilder sb = new StringBuilder();
        write(value, pad, sortKeys, 0, sb);
        return ensureAscii ? ascii(sb) : sb.toString();
    }

    /** ensure_ascii: every non-ASCII UTF-16 unit as \\uXXXX (outside strings there is none). */
    private static String ascii(CharSequence json) {
        StringBuilder sb = new StringBuilder(json.length());
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c < 0x80) {
                sb.append(c);
            } else {
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb.toString();
    }

    private static void write(Object v, String pad, boolean sortKeys, int depth, StringBuilder sb) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Long) {
            sb.append(v);
        } else if (v instanceof Double d) {
            sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                    : Values.floatRepr(d));
        } else if (v instanceof String s) {
            string(s, sb);
        } else if (v instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                separator(i, pad, depth, sb);
                write(list.get(i), pad, sortKeys, depth + 1, sb);
            }
            close(']', list.isEmpty(), pad, depth, sb);
        } else if (v instanceof Map<?, ?> map) {
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) {
                entries.sort((a, b) -> Values.compare(a.getKey(), b.getKey()));
            }
            sb.append('{');
            for (int i = 0; i < entries.size(); i++) {
                separator(i, pad, depth, sb);
                Object key = entries.get(i).getKey();
                string(key instanceof String s ? s : key instanceof Boolean || key == null
                        ? jsonScalar(key) : Values.str(key), sb);
                sb.append(": ");
                write(entries.get(i).getValue(), pad, sortKeys, depth + 1, sb);
            }
            close('}', entries.isEmpty(), pad, depth, sb);
        } else if (v instanceof Values.Namespace ns) {
            write(ns.attributes, pad, sortKeys, depth, sb);
        } else {
            Values.undefinedCheck(v);
            throw new TemplateError("Object of type " + Values.typeName(v) + " is not JSON serializable");
        }
    }

    private static String jsonScalar(Object key) {
        return key == null ? "null" : key.toString();
    }

    private static void separator(int index, String pad, int depth, StringBuilder sb) {
        if (index > 0) {
            sb.append(pad == null ? ", " : ",");
        }
        if (pad != null) {
            sb.append('\n').append(pad.repeat(depth + 1));
        }
    }

    private static void close(char bracket, boolean empty, String pad, int depth, StringBuilder sb) {
        if (pad != null && !empty) {
            sb.append('\n').append(pad.repeat(depth));
        }
        sb.append(bracket);
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
