package io.k3j.controllers.batch;

import java.util.BitSet;

/**
 * Sets of completion indexes as Job status writes them ({@code completedIndexes}): ascending intervals
 * separated by commas, a run of three or more as {@code first-last}, a run of two as {@code first,last}
 * (kube's orderedIntervals.String).
 */
final class Indexes {
    private Indexes() {
    }

    /** Parses {@code "0-2,4"}; entries that do not parse, or lie outside {@code [0, limit)}, are dropped. */
    static BitSet parse(String text, int limit) {
        BitSet out = new BitSet();
        if (text == null || text.isBlank()) return out;
        for (String part : text.split(",")) {
            try {
                int dash = part.indexOf('-');
                int first = Integer.parseInt((dash < 0 ? part : part.substring(0, dash)).trim());
                int last = dash < 0 ? first : Integer.parseInt(part.substring(dash + 1).trim());
                for (int i = Math.max(first, 0); i <= last && i < limit; i++) out.set(i);
            } catch (NumberFormatException e) {
                // a malformed entry is ignored, as kube's parser skips what it cannot read
            }
        }
        return out;
    }

    static String format(BitSet set) {
        StringBuilder b = new StringBuilder();
        int first = set.nextSetBit(0);
        while (first >= 0) {
            int end = set.nextClearBit(first); // exclusive
            int last = end - 1;
            if (!b.isEmpty()) b.append(',');
            b.append(first);
            if (last > first) b.append(last == first + 1 ? ',' : '-').append(last);
            first = set.nextSetBit(end);
        }
        return b.toString();
    }
}
