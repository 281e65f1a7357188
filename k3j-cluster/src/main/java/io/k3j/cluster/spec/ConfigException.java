package io.k3j.cluster.spec;

import java.util.List;

/** A config file that is not valid; {@link #problems()} has one line per problem, each naming the field and line. */
public final class ConfigException extends IllegalArgumentException {
    private final List<String> problems;

    ConfigException(String source, List<String> problems) {
        super(source + (problems.size() == 1 ? " is not valid: " + problems.getFirst()
                : " is not valid (" + problems.size() + " problems):\n  " + String.join("\n  ", problems)));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
