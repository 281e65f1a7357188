package io.k3j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Cached trees share their recurring subtrees, read-only")
class SharedSubtreesTest {

    /** A pod as a ReplicaSet makes them: name, uid, node and times differ, the rest recurs. */
    static String pod(String name, String node, String time) {
        return """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%1$s","namespace":"default","uid":"uid-%1$s",
                 "labels":{"app":"web","pod-template-hash":"5d8f"},
                 "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d8f","uid":"rs-uid","controller":true}],
                 "managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"%3$s",
                   "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{}}}}}}]},
                 "spec":{"nodeName":"%2$s","containers":[{"name":"web","image":"nginx:1.27","resources":{"requests":{"cpu":"100m"}}}],
                  "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},
                 "status":{"phase":"Pending"}}
                """.formatted(name, node, time);
    }

    static ObjectNode cached(String json) {
        return Json.parseCached(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    @DisplayName("two pods of one template hold the same containers, labels, owner references, tolerations and field sets")
    void equalSubtreesAreOneObject() {
        ObjectNode a = cached(pod("web-a", "n1", "2026-11-26T10:00:00Z"));
        ObjectNode b = cached(pod("web-b", "n2", "2026-11-26T10:00:01Z"));
        assertThat(b.get("spec").get("containers")).isSameAs(a.get("spec").get("containers"));
        assertThat(b.get("spec").get("tolerations")).isSameAs(a.get("spec").get("tolerations"));
        assertThat(b.get("metadata").get("labels")).isSameAs(a.get("metadata").get("labels"));
        assertThat(b.get("metadata").get("ownerReferences")).isSameAs(a.get("metadata").get("ownerReferences"));
        assertThat(b.at("/metadata/managedFields/0/fieldsV1")).isSameAs(a.at("/metadata/managedFields/0/fieldsV1"));
        // what differs stays each pod's own
        assertThat(b.get("metadata")).isNotSameAs(a.get("metadata"));
        assertThat(b.at("/metadata/managedFields/0")).isNotSameAs(a.at("/metadata/managedFields/0"));
        assertThat(b.at("/metadata/managedFields/0")).isNotEqualTo(a.at("/metadata/managedFields/0"));
        assertThat(b.at("/spec/nodeName").asText()).isEqualTo("n2");
        assertThat(b.at("/metadata/managedFields/0/time").asText()).isEqualTo("2026-11-26T10:00:01Z");
    }

    @Test
    @DisplayName("a tree with shared subtrees equals, and serializes as, the ordinary parse of the same bytes")
    void sameContent() {
        String json = pod("web-c", "n1", "2026-11-26T10:00:00Z");
        cached(pod("web-d", "n3", "2026-11-26T10:00:00Z")); // so that web-c's subtrees are found shared
        ObjectNode shared = cached(json);
        ObjectNode ordinary = (ObjectNode) Json.parse(json.getBytes(StandardCharsets.UTF_8));
        assertThat(shared).isEqualTo(ordinary);
        assertThat(shared.hashCode()).isEqualTo(ordinary.hashCode());
        assertThat(new String(Json.bytes(shared), StandardCharsets.UTF_8)).isEqualTo(new String(Json.bytes(ordinary), StandardCharsets.UTF_8));
    }

    @Test
    @DisplayName("changing a shared subtree throws; a deep copy of the object changes freely and leaves the others alone")
    void sharedIsReadOnly() {
        ObjectNode a = cached(pod("web-e", "n1", "2026-11-26T10:00:00Z"));
        ObjectNode b = cached(pod("web-f", "n1", "2026-11-26T10:00:00Z"));
        ObjectNode container = (ObjectNode) a.get("spec").get("containers").get(0);
        assertThatThrownBy(() -> container.put("image", "nginx:1.28"))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("deepCopy()");
        assertThatThrownBy(() -> container.remove("image")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> ((ObjectNode) a.get("metadata").get("labels")).removeAll()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> ((ArrayNode) a.get("spec").get("tolerations")).add("x")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> ((ObjectNode) a.get("metadata").get("labels")).properties().iterator().next().setValue(Json.NODES.textNode("x")))
                .isInstanceOf(UnsupportedOperationException.class);

        ObjectNode copy = a.deepCopy();
        ((ObjectNode) copy.get("spec").get("containers").get(0)).put("image", "nginx:1.28");
        ((ObjectNode) copy.get("metadata").get("labels")).put("tier", "front");
        ((ArrayNode) copy.get("spec").get("tolerations")).removeAll();
        assertThat(a.at("/spec/containers/0/image").asText()).isEqualTo("nginx:1.27");
        assertThat(b.at("/spec/containers/0/image").asText()).isEqualTo("nginx:1.27");
        assertThat(b.get("metadata").get("labels").has("tier")).isFalse();
        assertThat(b.get("spec").get("tolerations")).hasSize(1);
        // the object's own parts stay writable, as before
        ((ObjectNode) a.get("metadata")).put("resourceVersion", "7");
        assertThat(a.at("/metadata/resourceVersion").asText()).isEqualTo("7");
    }

    @Test
    @DisplayName("a pod's own parts below a shared level stay its own: a volume named at random shares its sources")
    void partsAreSharedBelowWhatDiffers() {
        String a = pod("web-g", "n1", "2026-11-26T10:00:00Z").replace("\"tolerations\"",
                "\"volumes\":[{\"name\":\"kube-api-access-abcde\",\"projected\":{\"defaultMode\":420,\"sources\":[{\"serviceAccountToken\":{\"path\":\"token\"}}]}}],\"tolerations\"");
        ObjectNode pa = cached(a);
        ObjectNode pb = cached(a.replace("abcde", "fghij").replace("nginx:1.27", "nginx:1.28"));
        assertThat(pb.get("spec").get("volumes")).isNotSameAs(pa.get("spec").get("volumes"));
        assertThat(pb.at("/spec/volumes/0/projected")).isSameAs(pa.at("/spec/volumes/0/projected"));
        assertThat(pb.get("spec").get("containers")).isNotSameAs(pa.get("spec").get("containers"));
        assertThat(pb.get("spec").get("containers")).isNotEqualTo(pa.get("spec").get("containers"));
        assertThat(pb.at("/spec/containers/0/resources")).isSameAs(pa.at("/spec/containers/0/resources"));
        // the empty objects of managedFields' field sets are one
        assertThat(pb.at("/metadata/managedFields/0/fieldsV1/f:metadata/f:labels/f:app")).isSameAs(pa.at("/metadata/managedFields/0/fieldsV1/f:spec/f:containers").get("k:{\"name\":\"web\"}").get("f:image"));
    }

    @Test
    @DisplayName("the stored parse (not cached) shares nothing and is fully writable")
    void storedParseIsPrivate() {
        ObjectNode a = cached(pod("web-i", "n1", "2026-11-26T10:00:00Z"));
        ObjectNode s = Json.parseStored(pod("web-i", "n1", "2026-11-26T10:00:00Z").getBytes(StandardCharsets.UTF_8));
        assertThat(s.get("spec").get("containers")).isNotSameAs(a.get("spec").get("containers"));
        ((ObjectNode) s.get("spec").get("containers").get(0)).put("image", "busybox");
        assertThat(a.at("/spec/containers/0/image").asText()).isEqualTo("nginx:1.27");
    }
}
