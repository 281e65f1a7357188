package io.k3j.controllers.node;

import java.util.BitSet;

/**
 * The node-sized blocks of the cluster's pod network (kube's cidrset, IPv4): block {@code i} of a
 * {@code 10.42.0.0/16} split into /24s is {@code 10.42.i.0/24}. Allocation continues after the last block handed
 * out, wrapping around, so a block just released is not handed to the next node at once (as kube's
 * {@code nextCandidate}).
 */
final class CidrSet {
    private final long base;
    private final int clusterBits;
    private final int nodeBits;
    private final int size;
    private final BitSet used;
    private int next;

    /**
     * @throws IllegalArgumentException when the CIDR is not IPv4 or the node mask is not within it
     */
    CidrSet(String clusterCidr, int nodeMaskSize) {
        int slash = clusterCidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("cluster CIDR " + clusterCidr + " (expected: a.b.c.d/n)");
        clusterBits = Integer.parseInt(clusterCidr.substring(slash + 1));
        nodeBits = nodeMaskSize;
        if (clusterBits < 0 || clusterBits > 32 || nodeBits < clusterBits || nodeBits > 32 || nodeBits - clusterBits > 24) {
            throw new IllegalArgumentException("node CIDR mask size " + nodeBits + " for cluster CIDR " + clusterCidr
                    + " (expected: between " + clusterBits + " and " + Math.min(32, clusterBits + 24) + ")");
        }
        long ip = parse(clusterCidr.substring(0, slash));
        long mask = clusterBits == 0 ? 0 : (0xFFFFFFFFL << (32 - clusterBits)) & 0xFFFFFFFFL;
        base = ip & mask;
        size = 1 << (nodeBits - clusterBits);
        used = new BitSet(size);
    }

    static long parse(String ip) {
        String[] p = ip.split("\\.");
        if (p.length != 4) throw new IllegalArgumentException("not an IPv4 address: " + ip);
        long v = 0;
        for (String s : p) {
            int o = Integer.parseInt(s);
            if (o < 0 || o > 255) throw new IllegalArgumentException("not an IPv4 address: " + ip);
            v = (v << 8) | o;
        }
        return v;
    }

    private String format(int index) {
        long ip = base + ((long) index << (32 - nodeBits));
        return ((ip >> 24) & 255) + "." + ((ip >> 16) & 255) + "." + ((ip >> 8) & 255) + "." + (ip & 255) + "/" + nodeBits;
    }

    /** The block index of {@code cidr}, or -1 when it is not one of this set's blocks. */
    private int index(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) return -1;
        try {
            if (Integer.parseInt(cidr.substring(slash + 1)) != nodeBits) return -1;
            long ip = parse(cidr.substring(0, slash));
            long off = ip - base;
            if (off < 0 || (off & ((1L << (32 - nodeBits)) - 1)) != 0) return -1;
            long i = off >> (32 - nodeBits);
            return i < size ? (int) i : -1;
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    /** The next free block, or null when all are taken. */
    synchronized String allocateNext() {
        for (int k = 0; k < size; k++) {
            int i = (next + k) % size;
            if (!used.get(i)) {
                used.set(i);
                next = (i + 1) % size;
                return format(i);
            }
        }
        return null;
    }

    /** Marks {@code cidr} taken (a node that already has it); false when it is not a block of this set. */
    synchronized boolean occupy(String cidr) {
        int i = index(cidr);
        if (i < 0) return false;
        used.set(i);
        return true;
    }

    synchronized void release(String cidr) {
        int i = index(cidr);
        if (i >= 0) used.clear(i);
    }

    synchronized int free() {
        return size - used.cardinality();
    }
}
