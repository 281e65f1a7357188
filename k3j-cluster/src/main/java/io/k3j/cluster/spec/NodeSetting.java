package io.k3j.cluster.spec;

import java.util.List;

/**
 * A value applied to the nodes a filter selects: {@code -e KEY=VAL@FILTER}, {@code --k3s-arg ARG@FILTER},
 * {@code --k3s-node-label KEY=VAL@FILTER}.
 *
 * @param value   {@code KEY=VAL} or the argument
 * @param filters which nodes; empty = every server and agent
 */
public record NodeSetting(String value, List<NodeFilter> filters) {
}
