package io.k3j.controllers.apps;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Placement rules and revision naming, without a cluster. */
class DaemonSetPlacementTest {
    private static ObjectNode yaml(String s) {
        // YAML flow style, parsed as YAML even though it starts with a brace
        try {
            return (ObjectNode) Json.YAML.readTree(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static ObjectNode node(String labels, String taints) {
        return yaml("{metadata: {name: n1, labels: " + labels + "}, spec: {taints: " + taints + "}}");
    }

    private static DaemonPods.Placement place(String podSpec, ObjectNode node) {
        ObjectNode spec = yaml(podSpec);
        DaemonPods.addTolerations(spec);
        return DaemonPods.placement(spec, node);
    }

    @Test
    @DisplayName("NoSchedule keeps new pods off but lets a running one stay; NoExecute removes it; daemon tolerations cover node conditions")
    void taints() {
        ObjectNode noSchedule = node("{}", "[{key: dedicated, value: db, effect: NoSchedule}]");
        assertThat(place("{}", noSchedule)).isEqualTo(new DaemonPods.Placement(false, true));
        ObjectNode noExecute = node("{}", "[{key: dedicated, effect: NoExecute}]");
        assertThat(place("{}", noExecute)).isEqualTo(new DaemonPods.Placement(false, false));
        assertThat(place("{}", node("{}", "[{key: x, effect: PreferNoSchedule}]"))).isEqualTo(new DaemonPods.Placement(true, true));
        assertThat(place("{tolerations: [{key: dedicated, operator: Equal, value: db}]}", noSchedule)).isEqualTo(new DaemonPods.Placement(true, true));
        assertThat(place("{tolerations: [{key: dedicated, operator: Equal, value: web}]}", noSchedule).shouldRun()).isFalse();
        assertThat(place("{tolerations: [{operator: Exists}]}", noExecute).shouldRun()).isTrue();
        for (String condition : new String[] {"not-ready:NoExecute", "unreachable:NoExecute", "disk-pressure:NoSchedule",
                "memory-pressure:NoSchedule", "pid-pressure:NoSchedule", "unschedulable:NoSchedule"}) {
            String[] kv = condition.split(":");
            ObjectNode n = node("{}", "[{key: node.kubernetes.io/" + kv[0] + ", effect: " + kv[1] + "}]");
            assertThat(place("{}", n).shouldRun()).as(condition).isTrue();
        }
        ObjectNode noNetwork = node("{}", "[{key: node.kubernetes.io/network-unavailable, effect: NoSchedule}]");
        assertThat(place("{}", noNetwork).shouldRun()).isFalse();
        assertThat(place("{hostNetwork: true}", noNetwork).shouldRun()).isTrue();
    }

    @Test
    @DisplayName("required node affinity: terms are ORed, requirements ANDed, with In, NotIn, Exists, DoesNotExist, Gt, Lt and matchFields")
    void affinity() {
        ObjectNode n = node("{zone: a, cores: '8'}", "[]");
        String term = "{affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: %s}}}}";
        assertThat(place(term.formatted("[{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]"), n).shouldRun()).isTrue();
        assertThat(place(term.formatted("[{matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}]"), n).shouldRun()).isFalse();
        assertThat(place(term.formatted("[{matchExpressions: [{key: gpu, operator: DoesNotExist}, {key: cores, operator: Gt, values: ['4']}]}]"), n)
                .shouldRun()).isTrue();
        assertThat(place(term.formatted("[{matchExpressions: [{key: cores, operator: Lt, values: ['4']}]}]"), n).shouldRun()).isFalse();
        assertThat(place(term.formatted("[{matchExpressions: [{key: gpu, operator: Exists}]}, {matchFields: [{key: metadata.name, operator: In, values: [n1]}]}]"), n)
                .shouldRun()).isTrue();
        assertThat(place(term.formatted("[{}]"), n).shouldRun()).as("an empty term matches nothing").isFalse();
        assertThat(place("{nodeSelector: {zone: b}}", n)).isEqualTo(new DaemonPods.Placement(false, false));
        assertThat(place("{nodeName: n2}", n).shouldRun()).isFalse();
    }

    @Test
    @DisplayName("a daemon pod is pinned by a single matchFields term that replaces the template's, and its target node is read back from it")
    void pinning() {
        ObjectNode spec = yaml("{affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: Exists}]}]}}}}");
        DaemonPods.pinToNode(spec, "n7");
        JsonNode terms = spec.at("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms");
        assertThat(terms.size()).isEqualTo(1);
        assertThat(terms.get(0).has("matchExpressions")).isFalse();
        ObjectNode pod = Json.object();
        pod.set("spec", spec);
        assertThat(DaemonPods.targetNode(pod)).isEqualTo("n7");
        spec.put("nodeName", "n8");
        assertThat(DaemonPods.targetNode(pod)).isEqualTo("n8");
        DaemonPods.addTolerations(spec);
        int before = spec.get("tolerations").size();
        DaemonPods.addTolerations(spec);
        assertThat(spec.get("tolerations").size()).as("adding twice adds nothing").isEqualTo(before);
    }

    @Test
    @DisplayName("revision hashes ignore key order, change with the collision count, and use kube's safe alphabet")
    void revisionHashes() {
        ObjectNode a = yaml("{spec: {template: {metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: i}]}}}}");
        ObjectNode b = yaml("{spec: {template: {spec: {containers: [{image: i, name: c}]}, metadata: {labels: {app: x}}}}}");
        String h = ControllerRevisions.hash(ControllerRevisions.patch(a), 0);
        assertThat(h).isEqualTo(ControllerRevisions.hash(ControllerRevisions.patch(b), 0));
        assertThat(h).isNotEqualTo(ControllerRevisions.hash(ControllerRevisions.patch(a), 1));
        assertThat(h).matches("[bcdfghjklmnpqrstvwxz2456789]+");
        assertThat(ControllerRevisions.patch(a).at("/spec/template/$patch").asText()).isEqualTo("replace");
        assertThat(ControllerRevisions.name("web", h)).isEqualTo("web-" + h);
        assertThat(ControllerRevisions.template(yaml("{data: " + ControllerRevisions.patch(a) + "}"))).isEqualTo(a.at("/spec/template"));
        assertThat(StatefulSetController.ordinal("web", "web-12")).isEqualTo(12);
        assertThat(StatefulSetController.ordinal("web", "web-01")).isEqualTo(-1);
        assertThat(StatefulSetController.ordinal("web", "web-x")).isEqualTo(-1);
        assertThat(StatefulSetController.ordinal("web", "webby-1")).isEqualTo(-1);
    }
}
