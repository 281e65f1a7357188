package io.k3j.api.select;

import io.k3j.api.select.LabelSelector.Operator;
import io.k3j.api.select.LabelSelector.Requirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The label selector lexer and recursive-descent parser of k8s.io/apimachinery/pkg/labels/selector.go, kept
 * token for token so that error messages (which quote the offending token) match kube-apiserver's.
 */
final class SelectorParser {

    /** A parse or validation failure; the message is what kube-apiserver puts in the 400 Status. */
    static final class ParseError extends RuntimeException {
        ParseError(String message) {
            super(message, null, false, false);
        }
    }

    enum Token { ERROR, END, CLOSED_PAR, COMMA, DOES_NOT_EXIST, DOUBLE_EQUALS, EQUALS, GREATER_THAN, IDENTIFIER, IN, LESS_THAN, NOT_EQUALS, NOT_IN, OPEN_PAR }

    private record Item(Token tok, String lit) {}

    private static final Map<String, Token> KEYWORDS = Map.of(
            ")", Token.CLOSED_PAR, ",", Token.COMMA, "!", Token.DOES_NOT_EXIST, "==", Token.DOUBLE_EQUALS,
            "=", Token.EQUALS, ">", Token.GREATER_THAN, "in", Token.IN, "<", Token.LESS_THAN,
            "!=", Token.NOT_EQUALS, "notin", Token.NOT_IN);

    private static final String BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt";

    private final String input;
    private int pos;
    private final List<Item> items = new ArrayList<>();
    private int position;

    SelectorParser(String input) {
        this.input = input;
    }

    // ---- lexer ----

    private char read() {
        // Go reads bytes and treats NUL as the end of input; so do we.
        return pos < input.length() ? input.charAt(pos++) : 0;
    }

    private void unread() {
        pos--;
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private static boolean isSpecial(char c) {
        return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
    }

    private static Token keyword(String s) {
        return s.equals("(") ? Token.OPEN_PAR : KEYWORDS.get(s);
    }

    private Item lex() {
        char c = read();
        while (isWhitespace(c)) c = read();
        if (c == 0) return new Item(Token.END, "");
        unread();
        return isSpecial(c) ? scanSpecial() : scanIdentifier();
    }

    private Item scanIdentifier() {
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = read();
            if (c == 0) break;
            if (isSpecial(c) || isWhitespace(c)) {
                unread();
                break;
            }
            b.append(c);
        }
        String s = b.toString();
        Token t = keyword(s);
        return new Item(t != null ? t : Token.IDENTIFIER, s);
    }

    private Item scanSpecial() {
        StringBuilder b = new StringBuilder();
        Item last = null;
        while (true) {
            char c = read();
            if (c == 0) break;
            if (!isSpecial(c)) {
                unread();
                break;
            }
            b.append(c);
            Token t = keyword(b.toString());
            if (t != null) {
                last = new Item(t, b.toString());
            } else if (last != null) {
                unread();
                break;
            }
        }
        if (last == null) return new Item(Token.ERROR, "error expected: keyword found '" + b + "'");
        return last;
    }

    // ---- parser ----

    private Item lookahead(boolean values) {
        return relax(items.get(position), values);
    }

    private Item consume(boolean values) {
        return relax(items.get(position++), values);
    }

    // In the values context "in" and "notin" are ordinary identifiers.
    private static Item relax(Item it, boolean values) {
        if (values && (it.tok() == Token.IN || it.tok() == Token.NOT_IN)) return new Item(Token.IDENTIFIER, it.lit());
        return it;
    }

    List<Requirement> parse() {
        while (true) {
            Item it = lex();
            items.add(it);
            if (it.tok() == Token.END) break;
        }
        List<Requirement> reqs = new ArrayList<>();
        while (true) {
            Item it = lookahead(true);
            switch (it.tok()) {
                case IDENTIFIER, DOES_NOT_EXIST -> {
                    try {
                        reqs.add(parseRequirement());
                    } catch (ParseError e) {
                        throw new ParseError("unable to parse requirement: " + e.getMessage());
                    }
                    Item t = consume(true);
                    switch (t.tok()) {
                        case END -> {
                            return reqs;
                        }
                        case COMMA -> {
                            Item t2 = lookahead(true);
                            if (t2.tok() != Token.IDENTIFIER && t2.tok() != Token.DOES_NOT_EXIST) {
                                throw new ParseError("found '" + t2.lit() + "', expected: identifier after ','");
                            }
                        }
                        default -> throw new ParseError("found '" + t.lit() + "', expected: ',' or 'end of string'");
                    }
                }
                case END -> {
                    return reqs;
                }
                default -> throw new ParseError("found '" + it.lit() + "', expected: !, identifier, or 'end of string'");
            }
        }
    }

    private Requirement parseRequirement() {
        Operator op = null;
        Item t = consume(true);
        if (t.tok() == Token.DOES_NOT_EXIST) {
            op = Operator.DOES_NOT_EXIST;
            t = consume(true);
        }
        if (t.tok() != Token.IDENTIFIER) throw new ParseError("found '" + t.lit() + "', expected: identifier");
        String key = t.lit();
        List<String> keyErrs = LabelValidation.labelKeyErrors(key);
        if (!keyErrs.isEmpty()) throw new ParseError(LabelValidation.invalid("<nil>", key, keyErrs));
        Token next = lookahead(true).tok();
        if ((next == Token.END || next == Token.COMMA) && op != Operator.DOES_NOT_EXIST) op = Operator.EXISTS;
        if (op == Operator.EXISTS || op == Operator.DOES_NOT_EXIST) {
            return LabelSelector.newRequirement(key, op, List.of());
        }
        op = parseOperator();
        List<String> values = switch (op) {
            case IN, NOT_IN -> parseValues();
            default -> parseExactValue();
        };
        return LabelSelector.newRequirement(key, op, values);
    }

    private Operator parseOperator() {
        Item t = consume(false);
        return switch (t.tok()) {
            case IN -> Operator.IN;
            case EQUALS -> Operator.EQUALS;
            case DOUBLE_EQUALS -> Operator.DOUBLE_EQUALS;
            case GREATER_THAN -> Operator.GREATER_THAN;
            case LESS_THAN -> Operator.LESS_THAN;
            case NOT_IN -> Operator.NOT_IN;
            case NOT_EQUALS -> Operator.NOT_EQUALS;
            default -> throw new ParseError("found '" + t.lit() + "', expected: " + BINARY_OPERATORS);
        };
    }

    private List<String> parseValues() {
        Item t = consume(true);
        if (t.tok() != Token.OPEN_PAR) throw new ParseError("found '" + t.lit() + "' expected: '('");
        Item la = lookahead(true);
        switch (la.tok()) {
            case IDENTIFIER, COMMA -> {
                TreeSet<String> s = parseIdentifiersList();
                // Kubernetes reports the token seen before the list here, not the one that failed.
                if (consume(true).tok() != Token.CLOSED_PAR) throw new ParseError("found '" + la.lit() + "', expected: ')'");
                return List.copyOf(s);
            }
            case CLOSED_PAR -> {
                consume(true);
                return List.of("");
            }
            default -> throw new ParseError("found '" + la.lit() + "', expected: ',', ')' or identifier");
        }
    }

    private TreeSet<String> parseIdentifiersList() {
        TreeSet<String> s = new TreeSet<>();
        while (true) {
            Item t = consume(true);
            switch (t.tok()) {
                case IDENTIFIER -> {
                    s.add(t.lit());
                    Item t2 = lookahead(true);
                    switch (t2.tok()) {
                        case COMMA -> {
                            continue;
                        }
                        case CLOSED_PAR -> {
                            return s;
                        }
                        default -> throw new ParseError("found '" + t2.lit() + "', expected: ',' or ')'");
                    }
                }
                case COMMA -> {
                    if (s.isEmpty()) s.add("");
                    Token t2 = lookahead(true).tok();
                    if (t2 == Token.CLOSED_PAR) {
                        s.add("");
                        return s;
                    }
                    if (t2 == Token.COMMA) s.add("");
                }
                default -> throw new ParseError("found '" + t.lit() + "', expected: ',', or identifier");
            }
        }
    }

    private List<String> parseExactValue() {
        Token la = lookahead(true).tok();
        if (la == Token.END || la == Token.COMMA) return List.of("");
        Item t = consume(true);
        if (t.tok() == Token.IDENTIFIER) return List.of(t.lit());
        throw new ParseError("found '" + t.lit() + "', expected: identifier");
    }
}
