package io.k3j.apiserver.system;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.List;

/**
 * Gives the memory of a burst back once the server is idle again. The serial collector (the launcher's choice)
 * grows the old generation while a burst promotes objects, and shrinks it only after a full collection, which
 * an idle server never needs: after creating 10,000 pods the heap kept 750-860 MB committed for ~400 MB live.
 * So when the old generation has grown since the last full collection by {@code growth} bytes and by half of
 * what that collection left, and two whole {@code period}s passed without a young collection (allocation has
 * calmed down), this runs one full collection, after which the JVM returns the free space above 10 % of the heap
 * (the launcher's {@code -XX:MaxHeapFreeRatio} of 20 % applies again afterwards). The launcher's
 * {@code -XX:MarkSweepDeadRatio=0} makes that collection compact everything: by default it may leave 5 % of the old
 * generation's capacity, then still the burst's, as dead objects in place.
 *
 * <p>Only for the server process: it calls {@link System#gc()}, which would disturb tests sharing a JVM.
 */
public final class IdleHeapTrimmer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IdleHeapTrimmer.class.getName());

    /** Free heap left after an idle collection, in percent. */
    private static final int IDLE_FREE_PERCENT = 10;

    private final Duration period;
    private final long growth;
    private final Duration minInterval;
    private final MemoryPoolMXBean old;
    private final List<GarbageCollectorMXBean> young;
    private final Thread thread;
    private volatile boolean closed;

    private IdleHeapTrimmer(Duration period, long growth, Duration minInterval, MemoryPoolMXBean old, List<GarbageCollectorMXBean> young) {
        this.period = period;
        this.growth = growth;
        this.minInterval = minInterval;
        this.old = old;
        this.young = young;
        this.thread = Thread.ofPlatform().daemon().name("idle-heap-trimmer").unstarted(this::run);
    }

    /**
     * Starts watching the heap, or returns null when the collector has no separate old generation to watch.
     *
     * @param period how long without a young collection counts as idle, and how often the heap is checked
     * @param growth old-generation growth since the last full collection that is worth a full collection
     * @param minInterval the least time between two collections this starts
     */
    public static IdleHeapTrimmer start(Duration period, long growth, Duration minInterval) {
        MemoryPoolMXBean old = null;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            String n = p.getName();
            if (p.getType() == MemoryType.HEAP && (n.contains("Tenured") || n.contains("Old Gen"))) old = p;
        }
        if (old == null) return null;
        String oldName = old.getName();
        // a collector managing the old pool is a full (or mixed) one; the others collect the young generation
        List<GarbageCollectorMXBean> young = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .filter(gc -> !List.of(gc.getMemoryPoolNames()).contains(oldName)).toList();
        if (young.isEmpty()) return null;
        IdleHeapTrimmer t = new IdleHeapTrimmer(period, growth, minInterval, old, young);
        t.thread.start();
        return t;
    }

    private long youngCollections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : young) n += Math.max(0, gc.getCollectionCount());
        return n;
    }

    private void run() {
        long lastYoung = youngCollections();
        long lastTrim = System.nanoTime() - minInterval.toNanos();
        int quiet = 0;
        while (!closed) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            long y = youngCollections();
            // two quiet periods in a row: on a machine short of CPU one quiet period happens mid-burst
            quiet = y == lastYoung ? quiet + 1 : 0;
            lastYoung = y;
            if (quiet < 2 || System.nanoTime() - lastTrim < minInterval.toNanos()) continue;
            var afterLastFull = old.getCollectionUsage();
            long baseline = afterLastFull == null ? 0 : afterLastFull.getUsed();
            long used = old.getUsage().getUsed();
            // growth by half the live set at least, as a collector's own trigger would be: a large heap is not
            // collected again for a little promoted garbage
            if (used - baseline < Math.max(growth, baseline / 2)) continue;
            long committed = Runtime.getRuntime().totalMemory();
            long t0 = System.nanoTime();
            collectTight();
            lastTrim = System.nanoTime();
            lastYoung = youngCollections();
            quiet = 0;
            LOG.log(System.Logger.Level.INFO, "idle after old generation grew {0} MB: full collection in {1} ms, heap {2} -> {3} MB committed, {4} MB live",
                    (used - baseline) >> 20, (lastTrim - t0) / 1_000_000, committed >> 20, Runtime.getRuntime().totalMemory() >> 20,
                    old.getCollectionUsage() == null ? -1 : old.getCollectionUsage().getUsed() >> 20);
        }
    }

    /**
     * A full collection that leaves only {@link #IDLE_FREE_PERCENT} free: {@code MaxHeapFreeRatio} is a manageable
     * flag, lowered for this one collection and then restored, so that a busy server keeps its usual headroom
     * (the heap grows again by {@code MinHeapFreeRatio} steps when load returns).
     */
    private static void collectTight() {
        var hotspot = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        String max = null;
        try {
            max = hotspot.getVMOption("MaxHeapFreeRatio").getValue();
            int min = Integer.parseInt(hotspot.getVMOption("MinHeapFreeRatio").getValue());
            if (Integer.parseInt(max) > Math.max(min, IDLE_FREE_PERCENT)) {
                hotspot.setVMOption("MaxHeapFreeRatio", Integer.toString(Math.max(min, IDLE_FREE_PERCENT)));
            } else {
                max = null;
            }
        } catch (RuntimeException notSettable) {
            max = null;
        }
        try {
            System.gc();
        } finally {
            if (max != null) hotspot.setVMOption("MaxHeapFreeRatio", max);
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
