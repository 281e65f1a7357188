package io.k3j.agent.eviction;

import io.k3j.api.Quantity;
import java.util.ArrayList;
import java.util.List;

/**
 * Hard eviction thresholds as kubelet's {@code --eviction-hard} spells them: {@code memory.available<100Mi},
 * {@code nodefs.available<10%}, {@code imagefs.available<15%}. A threshold is met when the signal's available
 * amount drops below the quantity (or the percentage of capacity).
 */
public record Thresholds(List<Threshold> hard) {
    /** kubelet's defaults on Linux. */
    public static final Thresholds DEFAULTS = parse("memory.available<100Mi,nodefs.available<10%,imagefs.available<15%");

    public Thresholds {
        hard = List.copyOf(hard);
    }

    /** One signal's limit: either an absolute quantity in bytes or a percentage of capacity. */
    public record Threshold(Signal signal, long bytes, double percent, String spelled) {
        /** The amount below which the threshold is met, for a resource of {@code capacity} bytes. */
        long limit(long capacity) {
            return percent > 0 ? (long) (capacity * percent / 100.0) : bytes;
        }
    }

    /** The signals k3j watches. */
    public enum Signal {
        MEMORY("memory.available", "memory"), NODEFS("nodefs.available", "ephemeral-storage"), IMAGEFS("imagefs.available", "ephemeral-storage");

        final String flagName;
        /** The resource kubelet names in messages and in the node condition. */
        final String resource;

        Signal(String flagName, String resource) {
            this.flagName = flagName;
            this.resource = resource;
        }
    }

    /**
     * Parses {@code signal<quantity[,…]}.
     *
     * @throws IllegalArgumentException naming the part that is wrong
     */
    public static Thresholds parse(String spec) {
        List<Threshold> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            int lt = p.indexOf('<');
            if (lt <= 0) throw new IllegalArgumentException("eviction threshold " + p + ": expected SIGNAL<QUANTITY, e.g. memory.available<100Mi");
            String name = p.substring(0, lt);
            Signal signal = null;
            for (Signal s : Signal.values()) if (s.flagName.equals(name)) signal = s;
            if (signal == null) {
                throw new IllegalArgumentException("eviction threshold " + p + ": unknown signal " + name
                        + " (supported: memory.available, nodefs.available, imagefs.available)");
            }
            String value = p.substring(lt + 1);
            if (value.endsWith("%")) {
                double percent;
                try {
                    percent = Double.parseDouble(value.substring(0, value.length() - 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("eviction threshold " + p + ": bad percentage " + value);
                }
                if (percent <= 0 || percent > 100) throw new IllegalArgumentException("eviction threshold " + p + ": percentage must be in (0, 100]");
                out.add(new Threshold(signal, 0, percent, value));
            } else {
                long bytes;
                try {
                    bytes = Quantity.parse(value).value().longValue();
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("eviction threshold " + p + ": bad quantity " + value);
                }
                out.add(new Threshold(signal, bytes, 0, value));
            }
        }
        return new Thresholds(out);
    }
}
