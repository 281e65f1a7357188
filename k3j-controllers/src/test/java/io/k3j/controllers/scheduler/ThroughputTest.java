package io.k3j.controllers.scheduler;

import static io.k3j.controllers.scheduler.Fixtures.node;
import static io.k3j.controllers.scheduler.Fixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Not a benchmark harness: a guard that decisions stay cheap, with the rate printed for the record. */
class ThroughputTest {

    @Test
    void fiveThousandDecisionsOverAHundredNodesWithFiftyPodsEach() {
        List<NodeInfo> nodes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            NodeInfo n = node(String.format("node-%03d", i)).zone("z" + (i % 3)).alloc("cpu", "64").alloc("memory", "256Gi")
                    .alloc("pods", "250").info();
            for (int j = 0; j < 50; j++) {
                n.addPod(pod("p-" + i + "-" + j).label("app", "app" + (j % 10)).owner("rs-" + (j % 10))
                        .cpu("100m").mem("128Mi").nodeName(n.name()).info());
            }
            nodes.add(n);
        }
        Snapshot s = Snapshot.of(nodes, null, null);
        SchedulingAlgorithm algorithm = new SchedulingAlgorithm();
        List<PodInfo> incoming = new ArrayList<>();
        for (int k = 0; k < 5000; k++) {
            incoming.add(pod("new-" + k).label("app", "app" + (k % 10)).owner("rs-" + (k % 10)).cpu("50m").mem("64Mi").info());
        }
        for (int k = 0; k < 3000; k++) algorithm.schedule(incoming.get(k % 5000), s); // warm-up: let the JIT compile
        long t0 = System.nanoTime();
        for (PodInfo p : incoming) {
            ScheduleResult r = algorithm.schedule(p, s);
            s.assume(p, r.node());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("scheduler: 5000 decisions over 100 nodes x 50+ pods in %.3f s = %.0f decisions/s%n",
                seconds, 5000 / seconds);
        assertThat(seconds).isLessThan(20);
        int total = s.nodes().stream().mapToInt(n -> n.pods().size()).sum();
        assertThat(total).isEqualTo(100 * 50 + 5000);
    }
}
