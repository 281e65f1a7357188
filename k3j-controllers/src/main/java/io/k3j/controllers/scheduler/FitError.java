package io.k3j.controllers.scheduler;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Why no node fits a pod, rendered exactly as kube-scheduler's {@code FitError.Error()}:
 * {@code "0/3 nodes are available: 1 node(s) had untolerated taint {k: }, 2 Insufficient cpu."} — each
 * reason counted over nodes, the {@code "<count> <reason>"} strings sorted as text (so "10 ..." sorts before
 * "2 ..."), and a PreFilter message or a PostFilter (preemption) message appended, each as {@code " %s."}.
 * The preemption message is itself a FitError text, hence kube's familiar double period.
 */
public final class FitError {

    /** kube-scheduler's {@code ErrNoNodesAvailable}. */
    static final String NO_NODES = "no nodes available to schedule pods";

    private final int numAllNodes;
    private final Map<String, Status> statuses;
    private final String preFilterMessage;
    private final String postFilterMessage;

    FitError(int numAllNodes, Map<String, Status> statuses, String preFilterMessage, String postFilterMessage) {
        this.numAllNodes = numAllNodes;
        this.statuses = Collections.unmodifiableMap(new LinkedHashMap<>(statuses));
        this.preFilterMessage = preFilterMessage;
        this.postFilterMessage = postFilterMessage;
    }

    FitError withPostFilterMessage(String message) {
        return new FitError(numAllNodes, statuses, preFilterMessage, message);
    }

    /** The number of nodes in the snapshot. */
    public int numAllNodes() {
        return numAllNodes;
    }

    /** Each node's rejection, by node name. */
    public Map<String, Status> statuses() {
        return statuses;
    }

    /** The preemption outcome appended to the message, or null. */
    public String postFilterMessage() {
        return postFilterMessage;
    }

    /** The message kube-scheduler puts in the FailedScheduling event and the PodScheduled condition. */
    public String message() {
        if (numAllNodes == 0 && preFilterMessage == null) return NO_NODES;
        StringBuilder b = new StringBuilder().append("0/").append(numAllNodes).append(" nodes are available:");
        if (preFilterMessage != null) {
            b.append(' ').append(preFilterMessage).append('.');
        } else {
            String hist = histogram(statuses);
            if (!hist.isEmpty()) b.append(' ').append(hist).append('.');
        }
        if (postFilterMessage != null && !postFilterMessage.isEmpty()) b.append(' ').append(postFilterMessage).append('.');
        return b.toString();
    }

    static String histogram(Map<String, Status> statuses) {
        Map<String, Integer> counts = new HashMap<>();
        for (Status s : statuses.values()) for (String r : s.reasons()) counts.merge(r, 1, Integer::sum);
        List<String> parts = new ArrayList<>(counts.size());
        counts.forEach((r, c) -> parts.add(c + " " + r));
        Collections.sort(parts); // Go's sort.Strings: byte order, as String.compareTo for these texts
        return String.join(", ", parts);
    }

    @Override
    public String toString() {
        return message();
    }
}
