package io.llmstream.tokenizer.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a Jinja template into text and tag tokens, applying whitespace control the way HuggingFace's environment
 * does: {@code trim_blocks} (the newline after a block or comment tag goes), {@code lstrip_blocks} (spaces and tabs
 * before a block or comment tag at the start of a line go), {@code -} on a tag side strips all whitespace on that
 * side, {@code +} turns lstrip/trim off for that side, and one trailing newline of the template is dropped
 * ({@code keep_trailing_newline} false).
 */
final class TemplateLexer {
    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Kind kind, String text, Object value, int line) {
        boolean is(Kind k, String t) {
            return kind == k && text.equals(t);
        }

        boolean isOp(String t) {
            return is(Kind.OP, t);
        }

        boolean isName(String t) {
            return is(Kind.NAME, t);
        }
    }

    private static final String[] OPERATORS = {"**", "//", "==", "!=", "<=", ">=",
            "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "=", "<", ">"};
    private static final Pattern END_RAW = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*([-+]?)%}");

    private final String src;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private int line = 1;
    private boolean stripNextText;

    private TemplateLexer(String source) {
        this.src = source.endsWith("\r\n") ? source.substring(0, source.length() - 2)
                : source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
    }

    static List<Token> tokenize(String source) {
        TemplateLexer lexer = new TemplateLexer(source);
        lexer.run();
        return lexer.out;
    }

    private void run() {
        while (pos <= src.length()) {
            int tag = nextTag(pos);
            int textStart = pos;
            String text = src.substring(pos, tag < 0 ? src.length() : tag);
            if (stripNextText) {
                text = text.stripLeading();
                stripNextText = false;
            }
            if (tag < 0) {
                addText(text);
                break;
            }
            char kind = src.charAt(tag + 1);
            char modifier = tag + 2 < src.length() ? src.charAt(tag + 2) : ' ';
            if (modifier == '-') {
                text = text.stripTrailing();
            } else if (modifier != '+' && kind != '{') {
                text = lstripBlock(text, textStart);
            }
            addText(text);
            line += count(src, textStart, tag);
            int inner = tag + 2 + (modifier == '-' || modifier == '+' ? 1 : 0);
            if (kind == '#') {
                int end = src.indexOf("#}", inner);
                if (end < 0) {
                    throw new TemplateError("a comment is not closed", line);
                }
                closeTag(end, end + 2, true);
            } else {
                tag(kind == '{', inner);
            }
        }
        out.add(new Token(Kind.EOF, "", null, line));
    }

    private void addText(String text) {
        if (!text.isEmpty()) {
            out.add(new Token(Kind.TEXT, text, text, line));
        }
    }

    private String lstripBlock(String text, int textStart) {
        int nl = text.lastIndexOf('\n');
        boolean lineStart = nl >= 0 || textStart == 0 || src.charAt(textStart - 1) == '\n';
        if (!lineStart) {
            return text;
        }
        for (int i = nl + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != ' ' && c != '\t') {
                return text;
            }
        }
        return text.substring(0, nl + 1);
    }

    /** Where the next tag opens at or after {@code from}, or -1. */
    private int nextTag(int from) {
        int i = src.indexOf('{', from);
        while (i >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i = src.indexOf('{', i + 1);
        }
        return -1;
    }

    /** Tokens of one {{ }} or {% %} tag, from just inside its opening to just after its closing. */
    private void tag(boolean variable, int start) {
        out.add(new Token(variable ? Kind.VAR_BEGIN : Kind.BLOCK_BEGIN, "", null, line));
        int firstToken = out.size();
        pos = start;
        int braces = 0;
        String close = variable ? "}}" : "%}";
        while (true) {
            skipSpace();
            if (pos >= src.length()) {
                throw new TemplateError("a tag is not closed (expected '" + close + "')", line);
            }
            char c = src.charAt(pos);
            if (braces == 0 && (src.startsWith(close, pos) || ((c == '-' || c == '+') && src.startsWith(close, pos + 1)))) {
                int end = c == '-' || c == '+' ? pos + 1 : pos;
                closeTag(pos, end + 2, !variable);
                out.add(new Token(variable ? Kind.VAR_END : Kind.BLOCK_END, "", null, line));
                if (!variable && out.size() == firstToken + 2 && out.get(firstToken).isName("raw")) {
                    raw();
                }
                return;
            }
            if (Character.isLetter(c) || c == '_') {
                int s = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                out.add(new Token(Kind.NAME, src.substring(s, pos), null, line));
            } else if (c >= '0' && c <= '9') {
                number();
            } else if (c == '\'' || c == '"') {
                string(c);
            } else {
                String op = operator();
                if (op.equals("{")) {
                    braces++;
                } else if (op.equals("}")) {
                    braces--;
                }
                out.add(new Token(Kind.OP, op, null, line));
            }
        }
    }

    /** Consumes a tag's closing at {@code at} (the {@code -}/{@code +} modifier or the delimiter) up to {@code after}. */
    private void closeTag(int at, int after, boolean block) {
        char modifier = src.charAt(at);
        pos = after;
        if (modifier == '-') {
            stripNextText = true;
        } else if (block && modifier != '+') {
            if (src.startsWith("\r\n", pos)) {
                pos += 2;
                line++;
            } else if (src.startsWith("\n", pos)) {
                pos++;
                line++;
            }
        }
    }

    /** {% raw %}: everything up to {% endraw %} is text. */
    private void raw() {
        out.remove(out.size() - 1);
        out.remove(out.size() - 1);
        out.remove(out.size() - 1);
        Matcher m = END_RAW.matcher(src);
        if (!m.find(pos)) {
            throw new TemplateError("{% raw %} is not closed by {% endraw %}", line);
        }
        String text = src.substring(pos, m.start());
        if (stripNextText) {
            text = text.stripLeading();
            stripNextText = false;
        }
        if (m.group(1).equals("-")) {
            text = text.stripTrailing();
        }
        addText(text);
        line += count(src, pos, m.end());
        pos = m.end();
        if (m.group(2).equals("-")) {
            stripNextText = true;
        } else if (!m.group(2).equals("+") && src.startsWith("\n", pos)) {
            pos++;
            line++;
        }
    }

    private void skipSpace() {
        while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
            if (src.charAt(pos) == '\n') {
                line++;
            }
            pos++;
        }
    }

    private void number() {
        int s = pos;
        digits();
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            digits();
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int e = pos + 1;
            if (e < src.length() && (src.charAt(e) == '+' || src.charAt(e) == '-')) {
                e++;
            }
            if (e < src.length() && Character.isDigit(src.charAt(e))) {
                isFloat = true;
                pos = e;
                digits();
            }
        }
        String text = src.substring(s, pos).replace("_", "");
        out.add(isFloat ? new Token(Kind.FLOAT, text, Double.parseDouble(text), line)
                : new Token(Kind.INT, text, Long.parseLong(text), line));
    }

    private void digits() {
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
        }
    }

    /** A string literal with Python's escapes. */
    private void string(char quote) {
        int startLine = line;
        StringBuilder sb = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw new TemplateError("a string literal is not closed", startLine);
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\' || pos >= src.length()) {
                sb.append(c);
                continue;
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '0' -> sb.append('\0');
                case 'a' -> sb.append('\007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\013');
                case '\\', '\'', '"' -> sb.append(e);
                case '\n' -> line++;
                case 'x' -> sb.appendCodePoint(hex(2));
                case 'u' -> sb.appendCodePoint(hex(4));
                case 'U' -> sb.appendCodePoint(hex(8));
                default -> sb.append('\\').append(e);
            }
        }
        out.add(new Token(Kind.STRING, sb.toString(), sb.toString(), startLine));
    }

    private int hex(int n) {
        if (pos + n > src.length()) {
            throw new TemplateError("a \\x/\\u escape is cut short", line);
        }
        int v = Integer.parseInt(src.substring(pos, pos + n), 16);
        pos += n;
        return v;
    }

    private String operator() {
        for (String op : OPERATORS) {
            if (src.startsWith(op, pos)) {
                pos += op.length();
                return op;
            }
        }
        throw new TemplateError("unexpected character '" + src.charAt(pos) + "'", line);
    }

    private static int count(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }
}
