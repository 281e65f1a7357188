package io.k3j.api.jsonpath;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the inside of one client-go jsonpath action ({@code .spec.replicas}, {@code .items[0].name},
 * {@code .status.conditions[?(@.type=="Ready")].status}), following util/jsonpath/parser.go so that odd
 * inputs behave as in kubectl and kube-apiserver. A closing {@code }} ends the action.
 */
final class Parser {
    private static final Pattern DICT_KEY = Pattern.compile("^'([^']*)'$");
    private static final Pattern SLICE = Pattern.compile("^(-?\\d*)(:-?\\d*)?(:-?\\d*)?$");
    private static final Pattern FILTER = Pattern.compile("^([^!<>=]+)([!<>=]+)(.+?)$", Pattern.DOTALL);

    private final String input;
    private int pos;
    private int start;

    private Parser(String input) {
        this.input = input;
    }

    static List<Node> parse(String text) {
        Parser p = new Parser(text);
        List<Node> nodes = new ArrayList<>();
        p.parseInsideAction(nodes);
        return nodes;
    }

    private static final int EOF = -1;

    private int width;

    // Like Go's parser: reading at the end has width 0, so backing up after it is a no-op.
    private int next() {
        if (pos >= input.length()) {
            width = 0;
            return EOF;
        }
        width = 1;
        return input.charAt(pos++);
    }

    private void backup() {
        pos -= width;
    }

    private int peek() {
        return pos < input.length() ? input.charAt(pos) : EOF;
    }

    private String consumeText() {
        String v = input.substring(start, pos);
        start = pos;
        return v;
    }

    private void parseInsideAction(List<Node> cur) {
        while (true) {
            if (input.startsWith("}", pos)) return;
            if (input.startsWith("[?(", pos)) {
                parseFilter(cur);
                continue;
            }
            if (input.startsWith("..", pos)) {
                parseRecursive(cur);
                continue;
            }
            int r = next();
            if (r == EOF) return;
            if (r == '\r' || r == '\n') throw new JsonPathException("unclosed action");
            if (r == ' ' || r == '@' || r == '$') {
                consumeText();
            } else if (r == '[') {
                parseArray(cur);
            } else if (r == '"' || r == '\'') {
                parseQuote(cur, (char) r);
            } else if (r == '.') {
                parseField(cur);
            } else if (r == '+' || r == '-' || Character.isDigit(r)) {
                backup();
                parseNumber(cur);
            } else if (isAlphaNumeric(r)) {
                backup();
                parseIdentifier(cur);
            } else {
                throw new JsonPathException(String.format("unrecognized character in action: U+%04X '%c'", r, r));
            }
        }
    }

    private void parseIdentifier(List<Node> cur) {
        while (!isTerminator(next())) {
            // keep reading
        }
        backup();
        String value = consumeText();
        if (value.equals("true") || value.equals("false")) {
            cur.add(new Node.BoolLit(Boolean.parseBoolean(value)));
        } else {
            // client-go knows only "range" and "end" here, which need the template form we do not support.
            throw new JsonPathException("unrecognized identifier " + value);
        }
    }

    private void parseRecursive(List<Node> cur) {
        if (!cur.isEmpty() && cur.get(cur.size() - 1) instanceof Node.Recursive) {
            throw new JsonPathException("invalid multiple recursive descent");
        }
        pos += 2;
        consumeText();
        cur.add(new Node.Recursive());
        if (isAlphaNumeric(peek())) parseField(cur);
    }

    private void parseNumber(List<Node> cur) {
        int r = peek();
        if (r == '+' || r == '-') next();
        while (true) {
            r = next();
            if (r != '.' && !(r != EOF && Character.isDigit(r))) {
                backup();
                break;
            }
        }
        String value = consumeText();
        try {
            cur.add(new Node.IntLit(Long.parseLong(value.startsWith("+") ? value.substring(1) : value)));
            return;
        } catch (NumberFormatException ignored) {
            // not an integer; maybe a float
        }
        try {
            cur.add(new Node.FloatLit(Double.parseDouble(value)));
        } catch (NumberFormatException e) {
            throw new JsonPathException("cannot parse number " + value);
        }
    }

    private void parseArray(List<Node> cur) {
        while (true) {
            int r = next();
            if (r == EOF || r == '\n') throw new JsonPathException("unterminated array");
            if (r == ']') break;
        }
        String text = consumeText();
        text = text.substring(1, text.length() - 1);
        if (text.equals("*")) text = ":";
        String[] strs = text.split(",", -1);
        if (strs.length > 1) {
            List<List<Node>> union = new ArrayList<>();
            for (String s : strs) union.add(parse("[" + s.strip() + "]"));
            cur.add(new Node.Union(union));
            return;
        }
        Matcher dict = DICT_KEY.matcher(text);
        if (dict.matches()) {
            cur.addAll(parse("." + dict.group(1)));
            return;
        }
        Matcher m = SLICE.matcher(text);
        if (!m.matches()) throw new JsonPathException("invalid array index " + text);
        Integer[] params = new Integer[3];
        boolean derived = false;
        for (int i = 0; i < 3; i++) {
            String v = m.group(i + 1);
            if (v != null && !v.isEmpty()) {
                if (i > 0) v = v.substring(1);
                if (i > 0 && v.isEmpty()) {
                    params[i] = null;
                } else {
                    try {
                        params[i] = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        throw new JsonPathException("array index " + v + " is not a number");
                    }
                }
            } else if (i == 1) {
                params[1] = (params[0] == null ? 0 : params[0]) + 1;
                derived = true;
            }
        }
        cur.add(new Node.Array(params[0], params[1], params[2], derived));
    }

    private void parseFilter(List<Node> cur) {
        pos += 3;
        consumeText();
        boolean begin = false;
        boolean end = false;
        int pair = 0;
        loop:
        while (true) {
            int r = next();
            switch (r) {
                case EOF, '\n' -> throw new JsonPathException("unterminated filter");
                case '"', '\'' -> {
                    if (!begin) {
                        begin = true;
                        pair = r;
                        continue;
                    }
                    if (input.charAt(pos - 2) != '\\' && r == pair) end = true;
                }
                case ')' -> {
                    if (begin == end) break loop;
                }
                default -> {
                    // part of the filter text
                }
            }
        }
        if (next() != ']') throw new JsonPathException("unclosed array expect ]");
        String text = consumeText();
        text = text.substring(0, text.length() - 2);
        Matcher m = FILTER.matcher(text);
        if (!m.matches()) {
            cur.add(new Node.Filter(parse(text), List.of(), "exists"));
        } else {
            cur.add(new Node.Filter(parse(m.group(1)), parse(m.group(3)), m.group(2)));
        }
    }

    private void parseQuote(List<Node> cur, char end) {
        while (true) {
            int r = next();
            if (r == EOF || r == '\n') throw new JsonPathException("unterminated quoted string");
            if (r == end && input.charAt(pos - 2) != '\\') break;
        }
        String value = consumeText();
        cur.add(new Node.Text(unquote(value)));
    }

    // A pragmatic strconv.UnquoteChar: the escapes a JSONPath string literal realistically carries.
    private static String unquote(String quoted) {
        String s = quoted.substring(1, quoted.length() - 1);
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case '\\', '\'', '"' -> b.append(e);
                default -> throw new JsonPathException("unquote string " + quoted + " error invalid syntax");
            }
        }
        return b.toString();
    }

    private void parseField(List<Node> cur) {
        consumeText();
        while (true) {
            int r = next();
            if (r == '\\') {
                next();
            } else if (isTerminator(r)) {
                backup();
                break;
            }
        }
        String value = consumeText();
        // Go slices the field text off '.', which consumeText already dropped.
        if (value.equals("*")) {
            cur.add(new Node.Wildcard());
        } else {
            cur.add(new Node.Field(value.replace("\\", "")));
        }
    }

    private static boolean isTerminator(int r) {
        return switch (r) {
            case EOF, ' ', '\t', '\r', '\n', '.', ',', '[', ']', '$', '@', '{', '}' -> true;
            default -> false;
        };
    }

    private static boolean isAlphaNumeric(int r) {
        return r != EOF && (r == '_' || Character.isLetter(r) || Character.isDigit(r));
    }
}
