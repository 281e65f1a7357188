package io.k3j.apiserver.registry.core;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.BitSet;
import java.util.concurrent.ThreadLocalRandom;

/** Cluster IP and node port allocation: bitmaps over a range, rebuilt from the stored Services at start. */
final class Allocators {
    private Allocators() {}

    /** Thrown when a value can't be had; the message is kube-apiserver's. */
    static final class AllocationException extends RuntimeException {
        AllocationException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * IPv4 addresses of a CIDR, network and broadcast addresses excluded. As in Kubernetes, random picks come
     * from the upper part of the range, so the lower part stays free for addresses chosen by users (such as
     * the cluster DNS address).
     */
    static final class IpRange {
        private final long base;
        private final int size;
        private final BitSet used;
        private final int prefix;
        private final String cidr;

        IpRange(String cidr) {
            this.cidr = cidr;
            String[] parts = cidr.split("/");
            if (parts.length != 2) throw new IllegalArgumentException("service CIDR \"" + cidr + "\" is not a CIDR (expected e.g. 10.43.0.0/16)");
            try {
                byte[] b = InetAddress.getByName(parts[0]).getAddress();
                if (b.length != 4) throw new IllegalArgumentException("only IPv4 service CIDRs are supported: " + cidr);
                prefix = Integer.parseInt(parts[1]);
                if (prefix < 8 || prefix > 30) throw new IllegalArgumentException("service CIDR " + cidr + " must be between /8 and /30");
                long addr = new BigInteger(1, b).longValue();
                long mask = prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
                base = addr & mask;
                size = (int) (1L << (32 - prefix));
                used = new BitSet(size);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("service CIDR \"" + cidr + "\" is not valid: " + e.getMessage());
            }
        }

        /** The address at {@code offset} from the network address (1 is the kubernetes Service's). */
        String at(int offset) {
            return toString(base + offset);
        }

        synchronized String allocateRandom() {
            int lowerBand = Math.min(Math.max(16, size / 16), 256);
            int first = size > 2 * lowerBand ? lowerBand : 1;
            int span = size - 1 - first;
            int start = ThreadLocalRandom.current().nextInt(span);
            for (int i = 0; i < span; i++) {
                int off = first + (start + i) % span;
                if (!used.get(off)) {
                    used.set(off);
                    return toString(base + off);
                }
            }
            for (int off = 1; off < first; off++) {
                if (!used.get(off)) {
                    used.set(off);
                    return toString(base + off);
                }
            }
            throw new AllocationException("range is full");
        }

        synchronized void allocate(String ip) {
            int off = offset(ip);
            if (off <= 0 || off >= size - 1) {
                throw new AllocationException("failed to allocate IP " + ip + ": the provided IP (" + ip + ") is not in the valid range. "
                        + "The range of valid IPs is " + cidr);
            }
            if (used.get(off)) throw new AllocationException("failed to allocate IP " + ip + ": provided IP is already allocated");
            used.set(off);
        }

        synchronized void release(String ip) {
            int off = offset(ip);
            if (off > 0 && off < size - 1) used.clear(off);
        }

        /** Marks an address in use at start, whatever its state. */
        synchronized void restore(String ip) {
            int off = offset(ip);
            if (off > 0 && off < size - 1) used.set(off);
        }

        private int offset(String ip) {
            try {
                byte[] b = InetAddress.getByName(ip).getAddress();
                if (b.length != 4) return -1;
                long v = new BigInteger(1, b).longValue() - base;
                return v < 0 || v >= size ? -1 : (int) v;
            } catch (UnknownHostException e) {
                return -1;
            }
        }

        private static String toString(long v) {
            return ((v >> 24) & 255) + "." + ((v >> 16) & 255) + "." + ((v >> 8) & 255) + "." + (v & 255);
        }
    }

    /** Node ports, 30000-32767 by default. */
    static final class PortRange {
        private final int first;
        private final int last;
        private final BitSet used;

        PortRange(int first, int last) {
            this.first = first;
            this.last = last;
            this.used = new BitSet(last - first + 1);
        }

        synchronized int allocateRandom() {
            int span = last - first + 1;
            int start = ThreadLocalRandom.current().nextInt(span);
            for (int i = 0; i < span; i++) {
                int off = (start + i) % span;
                if (!used.get(off)) {
                    used.set(off);
                    return first + off;
                }
            }
            throw new AllocationException("range is full");
        }

        synchronized void allocate(int port) {
            if (port < first || port > last) {
                throw new AllocationException("provided port is not in the valid range. The range of valid ports is " + first + "-" + last);
            }
            if (used.get(port - first)) throw new AllocationException("provided port is already allocated");
            used.set(port - first);
        }

        synchronized void release(int port) {
            if (port >= first && port <= last) used.clear(port - first);
        }

        synchronized void restore(int port) {
            if (port >= first && port <= last) used.set(port - first);
        }
    }
}
