package io.k3j.apiserver.table;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Cells as kube-apiserver computes them (printers.go), for realistic objects, at a fixed "now". */
class PrintersGoldenTest {
    static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");

    static ObjectNode obj(String json) {
        return Json.parseObject(json.getBytes(StandardCharsets.UTF_8));
    }

    static List<Object> cells(String group, String resource, ObjectNode o) {
        return TablePrinters.forResource(group, resource).cells(o, NOW);
    }

    static List<String> names(TablePrinter p) {
        return p.columns().stream().map(c -> c.name() + (c.priority() > 0 ? "*" : "")).toList();
    }

    @Test
    void podWithOneCrashLoopingContainer() {
        ObjectNode pod = obj("""
                {"metadata":{"name":"web-7d4b9c-x2x8k","namespace":"default","creationTimestamp":"2024-05-01T10:00:00Z"},
                 "spec":{"nodeName":"node-1","containers":[{"name":"app","image":"nginx"},{"name":"sidecar","image":"busybox"}]},
                 "status":{"phase":"Running","podIP":"10.42.0.7","podIPs":[{"ip":"10.42.0.7"}],
                  "conditions":[{"type":"Ready","status":"False"}],
                  "containerStatuses":[
                   {"name":"app","ready":true,"restartCount":0,"state":{"running":{"startedAt":"2024-05-01T10:00:05Z"}}},
                   {"name":"sidecar","ready":false,"restartCount":5,"state":{"waiting":{"reason":"CrashLoopBackOff"}},
                    "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"2024-05-01T11:57:00Z"}}}]}}
                """);
        assertThat(cells("", "pods", pod)).containsExactly(
                "web-7d4b9c-x2x8k", "1/2", "CrashLoopBackOff", "5 (3m ago)", "120m", "10.42.0.7", "node-1", "<none>", "<none>");
        assertThat(names(TablePrinters.forResource("", "pods"))).containsExactly(
                "Name", "Ready", "Status", "Restarts", "Age", "IP*", "Node*", "Nominated Node*", "Readiness Gates*");
    }

    @Test
    void podStatuses() {
        ObjectNode initializing = obj("""
                {"metadata":{"name":"p","creationTimestamp":"2024-05-01T11:59:00Z"},
                 "spec":{"initContainers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"main"}],
                         "readinessGates":[{"conditionType":"example.com/gate"}]},
                 "status":{"phase":"Pending","conditions":[{"type":"example.com/gate","status":"True"}],
                  "initContainerStatuses":[
                   {"name":"a","restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
                   {"name":"b","restartCount":0,"state":{"running":{}}}],
                  "containerStatuses":[{"name":"main","restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}}
                """);
        assertThat(cells("", "pods", initializing)).containsExactly(
                "p", "0/1", "Init:1/2", "0", "60s", "<none>", "<none>", "<none>", "1/1");

        ObjectNode completed = obj("""
                {"metadata":{"name":"job-x","creationTimestamp":"2024-04-01T12:00:00Z"},
                 "spec":{"containers":[{"name":"c"}]},
                 "status":{"phase":"Succeeded","containerStatuses":[{"name":"c","restartCount":0,
                   "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}}
                """);
        assertThat(cells("", "pods", completed).subList(0, 5)).containsExactly("job-x", "0/1", "Completed", "0", "30d");
        assertThat(TablePrinters.forResource("", "pods").conditions(completed)).singleElement()
                .satisfies(c -> assertThat(Json.string(c)).isEqualTo(
                        "{\"type\":\"Completed\",\"status\":\"True\",\"reason\":\"Succeeded\",\"message\":\"The pod has completed successfully.\"}"));

        ObjectNode terminating = obj("""
                {"metadata":{"name":"t","creationTimestamp":"2024-05-01T11:00:00Z","deletionTimestamp":"2024-05-01T11:59:30Z"},
                 "spec":{"containers":[{"name":"c"}]},
                 "status":{"phase":"Running","containerStatuses":[{"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]}}
                """);
        assertThat(cells("", "pods", terminating).subList(1, 3)).containsExactly("1/1", "Terminating");

        ObjectNode withSidecar = obj("""
                {"metadata":{"name":"s","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"initContainers":[{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"app"}]},
                 "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"True"}],
                  "initContainerStatuses":[{"name":"proxy","ready":true,"started":true,"restartCount":1,"state":{"running":{}},
                    "lastState":{"terminated":{"exitCode":137,"finishedAt":"2024-05-01T11:30:00Z"}}}],
                  "containerStatuses":[{"name":"app","ready":true,"restartCount":0,"state":{"running":{}}}]}}
                """);
        assertThat(cells("", "pods", withSidecar).subList(1, 4)).containsExactly("2/2", "Running", "1 (30m ago)");

        ObjectNode oomKilled = obj("""
                {"metadata":{"name":"o","creationTimestamp":"2024-05-01T11:00:00Z"},"spec":{"containers":[{"name":"c"}]},
                 "status":{"phase":"Running","containerStatuses":[{"name":"c","restartCount":2,
                   "state":{"terminated":{"exitCode":137,"signal":9}}}]}}
                """);
        assertThat(cells("", "pods", oomKilled).subList(1, 4)).containsExactly("0/1", "Signal:9", "2");
    }

    @Test
    void deploymentMidRollout() {
        ObjectNode d = obj("""
                {"metadata":{"name":"web","creationTimestamp":"2024-04-26T08:00:00Z"},
                 "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
                  "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"},{"name":"log","image":"fluent-bit:3"}]}}},
                 "status":{"replicas":4,"updatedReplicas":1,"readyReplicas":2,"availableReplicas":2,"unavailableReplicas":2}}
                """);
        assertThat(cells("apps", "deployments", d)).containsExactly(
                "web", "2/3", 1L, 2L, "5d4h", "nginx,log", "nginx:1.25,fluent-bit:3", "app=web");
        assertThat(names(TablePrinters.forResource("apps", "deployments"))).containsExactly(
                "Name", "Ready", "Up-to-date", "Available", "Age", "Containers*", "Images*", "Selector*");
    }

    @Test
    void workloads() {
        ObjectNode rs = obj("""
                {"metadata":{"name":"web-7d4b9c","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web","pod-template-hash":"7d4b9c"}},
                  "template":{"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}},
                 "status":{"replicas":3,"readyReplicas":1}}
                """);
        assertThat(cells("apps", "replicasets", rs)).containsExactly(
                "web-7d4b9c", 3L, 3L, 1L, "60m", "nginx", "nginx", "app=web,pod-template-hash=7d4b9c");

        ObjectNode sts = obj("""
                {"metadata":{"name":"db","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"pg","image":"postgres:16"}]}}},
                 "status":{"readyReplicas":2}}
                """);
        assertThat(cells("apps", "statefulsets", sts)).containsExactly("db", "2/3", "60m", "pg", "postgres:16");

        ObjectNode ds = obj("""
                {"metadata":{"name":"agent","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"selector":{"matchExpressions":[{"key":"app","operator":"In","values":["agent"]}]},
                  "template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},"containers":[{"name":"a","image":"agent:1"}]}}},
                 "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,"updatedNumberScheduled":3,"numberAvailable":2}}
                """);
        assertThat(cells("apps", "daemonsets", ds)).containsExactly(
                "agent", 3L, 3L, 2L, 3L, 2L, "kubernetes.io/os=linux", "60m", "a", "agent:1", "app in (agent)");

        ObjectNode job = obj("""
                {"metadata":{"name":"pi","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"completions":5,"parallelism":2,"selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"abc"}},
                  "template":{"spec":{"containers":[{"name":"pi","image":"perl"}]}}},
                 "status":{"succeeded":2,"startTime":"2024-05-01T11:00:00Z"}}
                """);
        assertThat(cells("batch", "jobs", job)).containsExactly(
                "pi", "Running", "2/5", "60m", "60m", "pi", "perl", "batch.kubernetes.io/controller-uid=abc");
        job.withObject("/status").put("completionTime", "2024-05-01T11:02:05Z");
        job.withObject("/status").putArray("conditions").addObject().put("type", "Complete").put("status", "True");
        job.withObject("/spec").remove("completions");
        assertThat(cells("batch", "jobs", job).subList(1, 4)).containsExactly("Complete", "2/1 of 2", "2m5s");

        ObjectNode cj = obj("""
                {"metadata":{"name":"nightly","creationTimestamp":"2024-04-01T00:00:00Z"},
                 "spec":{"schedule":"0 3 * * *","suspend":false,
                  "jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"backup"}]}}}}},
                 "status":{"active":[{"name":"nightly-1"}],"lastScheduleTime":"2024-05-01T03:00:00Z"}}
                """);
        assertThat(cells("batch", "cronjobs", cj)).containsExactly(
                "nightly", "0 3 * * *", "<none>", "False", 1L, "9h", "30d", "b", "backup", "<none>");

        ObjectNode rev = obj("""
                {"metadata":{"name":"db-5f8b","creationTimestamp":"2024-05-01T11:00:00Z",
                  "ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"db","controller":true}]},"revision":2}
                """);
        assertThat(cells("apps", "controllerrevisions", rev)).containsExactly("db-5f8b", "statefulset.apps/db", 2L, "60m");
    }

    @Test
    void servicesAndEndpoints() {
        ObjectNode lb = obj("""
                {"metadata":{"name":"web","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"type":"LoadBalancer","clusterIP":"10.43.12.5","clusterIPs":["10.43.12.5"],"selector":{"app":"web"},
                  "ports":[{"port":80,"protocol":"TCP","nodePort":31080},{"port":443,"protocol":"TCP","nodePort":31443}]},
                 "status":{"loadBalancer":{}}}
                """);
        assertThat(cells("", "services", lb)).containsExactly(
                "web", "LoadBalancer", "10.43.12.5", "<pending>", "80:31080/TCP,443:31443/TCP", "60m", "app=web");
        ObjectNode kube = obj("""
                {"metadata":{"name":"kubernetes","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"type":"ClusterIP","clusterIPs":["10.43.0.1"],"ports":[{"port":443,"protocol":"TCP"}]}}
                """);
        assertThat(cells("", "services", kube)).containsExactly("kubernetes", "ClusterIP", "10.43.0.1", "<none>", "443/TCP", "60m", "<none>");
        ObjectNode ext = obj("""
                {"metadata":{"name":"db","creationTimestamp":"2024-05-01T11:00:00Z"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}
                """);
        assertThat(cells("", "services", ext).subList(1, 5)).containsExactly("ExternalName", "<none>", "db.example.com", "<none>");

        ObjectNode ep = obj("""
                {"metadata":{"name":"web","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "subsets":[{"addresses":[{"ip":"10.42.0.7"},{"ip":"10.42.1.3"},{"ip":"10.42.2.9"}],"ports":[{"port":80},{"port":8443}]}]}
                """);
        assertThat(cells("", "endpoints", ep)).containsExactly("web", "10.42.0.7:80,10.42.1.3:80,10.42.2.9:80 + 3 more...", "60m");
        assertThat(cells("", "endpoints", obj("{\"metadata\":{\"name\":\"e\"}}"))).containsExactly("e", "<none>", "<unknown>");

        ObjectNode slice = obj("""
                {"metadata":{"name":"web-abc12","creationTimestamp":"2024-05-01T11:00:00Z"},"addressType":"IPv4",
                 "ports":[{"name":"http","port":80}],"endpoints":[{"addresses":["10.42.0.7"]},{"addresses":["10.42.1.3"]}]}
                """);
        assertThat(cells("discovery.k8s.io", "endpointslices", slice))
                .containsExactly("web-abc12", "IPv4", "80", "10.42.0.7,10.42.1.3", "60m");
    }

    @Test
    void nodesNamespacesAndConfig() {
        ObjectNode node = obj("""
                {"metadata":{"name":"k3j-server-0","creationTimestamp":"2024-04-20T12:00:00Z",
                  "labels":{"node-role.kubernetes.io/master":"true","node-role.kubernetes.io/control-plane":"true"}},
                 "spec":{"unschedulable":true},
                 "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
                  "addresses":[{"type":"InternalIP","address":"172.18.0.2"},{"type":"Hostname","address":"k3j-server-0"}],
                  "nodeInfo":{"kubeletVersion":"v1.30.2+k3j1","osImage":"Debian GNU/Linux 12 (bookworm)",
                   "kernelVersion":"6.1.0-18-amd64","containerRuntimeVersion":"containerd://1.7.15"}}}
                """);
        assertThat(cells("", "nodes", node)).containsExactly(
                "k3j-server-0", "Ready,SchedulingDisabled", "control-plane,master", "11d", "v1.30.2+k3j1",
                "172.18.0.2", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.15");
        assertThat(cells("", "nodes", obj("{\"metadata\":{\"name\":\"n\"}}")).subList(1, 3)).containsExactly("Unknown", "<none>");

        assertThat(cells("", "namespaces", obj("""
                {"metadata":{"name":"kube-system","creationTimestamp":"2024-05-01T11:59:55Z"},"status":{"phase":"Active"}}
                """))).containsExactly("kube-system", "Active", "5s");
        assertThat(cells("", "configmaps", obj("""
                {"metadata":{"name":"cfg","creationTimestamp":"2024-05-01T11:00:00Z"},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}}
                """))).containsExactly("cfg", 3L, "60m");
        assertThat(cells("", "secrets", obj("""
                {"metadata":{"name":"tls","creationTimestamp":"2024-05-01T11:00:00Z"},"type":"kubernetes.io/tls","data":{"tls.crt":"","tls.key":""}}
                """))).containsExactly("tls", "kubernetes.io/tls", 2L, "60m");
        assertThat(cells("", "serviceaccounts", obj("""
                {"metadata":{"name":"default","creationTimestamp":"2024-05-01T11:00:00Z"}}
                """))).containsExactly("default", 0L, "60m");
    }

    @Test
    void events() {
        ObjectNode ev = obj("""
                {"metadata":{"name":"web.17c9a","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "involvedObject":{"kind":"Pod","name":"web-7d4b9c-x2x8k","fieldPath":"spec.containers{sidecar}"},
                 "reason":"BackOff","message":"Back-off restarting failed container\\n","type":"Warning",
                 "source":{"component":"kubelet","host":"node-1"},
                 "firstTimestamp":"2024-05-01T11:00:00Z","lastTimestamp":"2024-05-01T11:58:00Z","count":14}
                """);
        assertThat(cells("", "events", ev)).containsExactly(
                "2m", "Warning", "BackOff", "pod/web-7d4b9c-x2x8k", "spec.containers{sidecar}", "kubelet, node-1",
                "Back-off restarting failed container", "60m", 14L, "web.17c9a");
        assertThat(names(TablePrinters.forResource("", "events"))).containsExactly(
                "Last Seen", "Type", "Reason", "Object", "Subobject*", "Source*", "Message", "First Seen*", "Count*", "Name*");

        ObjectNode newApi = obj("""
                {"metadata":{"name":"n.1"},"regarding":{"kind":"Node","name":"node-1"},"note":"Starting kubelet.","type":"Normal",
                 "reason":"Starting","eventTime":"2024-05-01T11:59:00.000000Z","reportingController":"kubelet","reportingInstance":"node-1"}
                """);
        assertThat(cells("events.k8s.io", "events", newApi)).containsExactly(
                "60s", "Normal", "Starting", "node/node-1", "", "kubelet, node-1", "Starting kubelet.", "60s", 1L, "n.1");
    }

    @Test
    void storage() {
        ObjectNode pv = obj("""
                {"metadata":{"name":"pvc-1234","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"capacity":{"storage":"10Gi"},"accessModes":["ReadWriteOnce","ReadOnlyMany"],
                  "persistentVolumeReclaimPolicy":"Delete","storageClassName":"local-path","volumeMode":"Filesystem",
                  "claimRef":{"namespace":"default","name":"data"}},
                 "status":{"phase":"Bound"}}
                """);
        assertThat(cells("", "persistentvolumes", pv)).containsExactly(
                "pvc-1234", "10Gi", "RWO,ROX", "Delete", "Bound", "default/data", "local-path", "<unset>", "", "60m", "Filesystem");
        ObjectNode pending = obj("""
                {"metadata":{"name":"data","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"storageClassName":"local-path","resources":{"requests":{"storage":"1Gi"}}},"status":{"phase":"Pending"}}
                """);
        assertThat(cells("", "persistentvolumeclaims", pending)).containsExactly(
                "data", "Pending", "", "", "", "local-path", "<unset>", "60m", "<unset>");
        ObjectNode bound = obj("""
                {"metadata":{"name":"data","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"volumeName":"pvc-1234","storageClassName":"local-path","volumeMode":"Filesystem"},
                 "status":{"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"10Gi"}}}
                """);
        assertThat(cells("", "persistentvolumeclaims", bound)).containsExactly(
                "data", "Bound", "pvc-1234", "10Gi", "RWO", "local-path", "<unset>", "60m", "Filesystem");
        ObjectNode sc = obj("""
                {"metadata":{"name":"local-path","creationTimestamp":"2024-05-01T11:00:00Z",
                  "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
                 "provisioner":"rancher.io/local-path","reclaimPolicy":"Delete","volumeBindingMode":"WaitForFirstConsumer"}
                """);
        assertThat(cells("storage.k8s.io", "storageclasses", sc)).containsExactly(
                "local-path (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", false, "60m");
        ObjectNode rq = obj("""
                {"metadata":{"name":"q","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "status":{"hard":{"pods":"10","limits.cpu":"4","requests.cpu":"2","limits.memory":"8Gi"},
                  "used":{"pods":"3","requests.cpu":"500m","limits.cpu":"1"}}}
                """);
        assertThat(cells("", "resourcequotas", rq)).containsExactly(
                "q", "60m", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 1/4, limits.memory: 0/8Gi");
    }

    @Test
    void networkingAndRbac() {
        ObjectNode ing = obj("""
                {"metadata":{"name":"web","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"ingressClassName":"traefik","rules":[{"host":"a.example.com"},{"host":"b.example.com"}],"tls":[{"hosts":["a.example.com"]}]},
                 "status":{"loadBalancer":{"ingress":[{"ip":"172.18.0.2"},{"ip":"172.18.0.3"}]}}}
                """);
        assertThat(cells("networking.k8s.io", "ingresses", ing)).containsExactly(
                "web", "traefik", "a.example.com,b.example.com", "172.18.0.2,172.18.0.3", "80, 443", "60m");
        ObjectNode ic = obj("""
                {"metadata":{"name":"traefik","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "spec":{"controller":"traefik.io/ingress-controller","parameters":{"apiGroup":"k8s.example.com","kind":"IngressParameters","name":"p"}}}
                """);
        assertThat(cells("networking.k8s.io", "ingressclasses", ic)).containsExactly(
                "traefik", "traefik.io/ingress-controller", "IngressParameters.k8s.example.com/p", "60m");
        ObjectNode np = obj("""
                {"metadata":{"name":"deny","creationTimestamp":"2024-05-01T11:00:00Z"},"spec":{"podSelector":{}}}
                """);
        assertThat(cells("networking.k8s.io", "networkpolicies", np)).containsExactly("deny", "<none>", "60m");
        ObjectNode crb = obj("""
                {"metadata":{"name":"admins","creationTimestamp":"2024-05-01T11:00:00Z"},
                 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
                 "subjects":[{"kind":"User","name":"alice"},{"kind":"Group","name":"system:masters"},
                  {"kind":"ServiceAccount","namespace":"kube-system","name":"admin"},{"kind":"User","name":"bob"}]}
                """);
        assertThat(cells("rbac.authorization.k8s.io", "clusterrolebindings", crb)).containsExactly(
                "admins", "ClusterRole/cluster-admin", "60m", "alice, bob", "system:masters", "kube-system/admin");
        assertThat(cells("coordination.k8s.io", "leases", obj("""
                {"metadata":{"name":"node-1","creationTimestamp":"2024-05-01T11:00:00Z"},"spec":{"holderIdentity":"node-1"}}
                """))).containsExactly("node-1", "node-1", "60m");
    }

    @Test
    void resourcesWithoutPrinterUseNameAndCreatedAt() {
        TablePrinter roles = TablePrinters.forResource("rbac.authorization.k8s.io", "roles");
        assertThat(roles).isSameAs(TablePrinters.forResource("apiextensions.k8s.io", "customresourcedefinitions"))
                .isSameAs(TablePrinters.forResource("", "limitranges"));
        assertThat(roles.columns()).extracting(TablePrinter.Column::name, TablePrinter.Column::type)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Name", "string"), org.assertj.core.groups.Tuple.tuple("Created At", "date"));
        assertThat(roles.cells(obj("{\"metadata\":{\"name\":\"r\",\"creationTimestamp\":\"2024-05-01T13:00:00+02:00\"}}"), NOW))
                .containsExactly("r", "2024-05-01T11:00:00Z");
        assertThat(roles.cells(obj("{\"metadata\":{\"name\":\"r\"}}"), NOW)).containsExactly("r", "0001-01-01T00:00:00Z");
    }

    @Test
    void customResourcesWithPrinterColumns() {
        var columns = Json.parse("""
                [{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"},
                 {"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\\"Ready\\")].status","description":"Readiness"},
                 {"name":"Ratio","type":"number","jsonPath":".spec.ratio","priority":1},
                 {"name":"Paused","type":"boolean","jsonPath":".spec.paused"},
                 {"name":"Selector","type":"string","jsonPath":".spec.selector"},
                 {"name":"Mismatch","type":"integer","jsonPath":".metadata.name"},
                 {"name":"Nil","type":"string","jsonPath":".spec.nothing"},
                 {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}]
                """.getBytes(StandardCharsets.UTF_8));
        TablePrinter p = TablePrinters.forCustomResource(columns);
        assertThat(names(p)).containsExactly("Name", "Replicas", "Ready", "Ratio*", "Paused", "Selector", "Mismatch", "Nil", "Age");
        assertThat(p.columns().get(1).description()).isEqualTo("Custom resource definition column (in JSONPath format): .spec.replicas");
        assertThat(p.columns().get(2).description()).isEqualTo("Readiness");
        ObjectNode cr = obj("""
                {"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","creationTimestamp":"2024-04-30T12:00:00Z"},
                 "spec":{"replicas":3,"ratio":0.25,"paused":true,"selector":{"b":"2","a":"1"},"nothing":null},
                 "status":{"conditions":[{"type":"Ready","status":"True"}]}}
                """);
        assertThat(p.cells(cr, NOW)).containsExactly("w1", 3L, "True", 0.25, true, "{\"a\":\"1\",\"b\":\"2\"}", null, "<no value>", "24h");
        cr.withObject("/spec").remove("replicas");
        assertThat(p.cells(cr, NOW).get(1)).isNull();
    }

    @Test
    void customResourcesWithoutPrinterColumnsGetAge() {
        TablePrinter p = TablePrinters.forCustomResource(null);
        assertThat(p.columns()).extracting(TablePrinter.Column::name, TablePrinter.Column::type)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Name", "string"), org.assertj.core.groups.Tuple.tuple("Age", "date"));
        assertThat(p.cells(obj("{\"metadata\":{\"name\":\"w\",\"creationTimestamp\":\"2024-05-01T11:58:00Z\"}}"), NOW))
                .isEqualTo(Arrays.asList("w", "2m"));
    }
}
