package io.k3j.api.jsonpath;

import java.util.List;

/** The parse tree of client-go's jsonpath, restricted to what one action ({@code {...}}) can hold. */
sealed interface Node {
    record Field(String name) implements Node {}

    record Wildcard() implements Node {}

    record Recursive() implements Node {}

    /** {@code [start:end:step]}; unknown bounds are null; {@code derivedEnd} marks {@code [i]} (end = i+1). */
    record Array(Integer start, Integer end, Integer step, boolean derivedEnd) implements Node {}

    record Union(List<List<Node>> branches) implements Node {}

    /** {@code [?(left op right)]}; op is "exists" when there is no comparison. */
    record Filter(List<Node> left, List<Node> right, String op) implements Node {}

    record Text(String text) implements Node {}

    record IntLit(long value) implements Node {}

    record FloatLit(double value) implements Node {}

    record BoolLit(boolean value) implements Node {}
}
