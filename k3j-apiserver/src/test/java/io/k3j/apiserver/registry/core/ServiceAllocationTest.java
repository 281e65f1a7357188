package io.k3j.apiserver.registry.core;

import static io.k3j.apiserver.registry.TestApi.apiError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.TestApi;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("ServiceStrategy allocates cluster IPs and node ports as kube-apiserver's service REST storage does")
class ServiceAllocationTest {
    final TestApi api = TestApi.start();
    final ResourceType services = api.type("services");

    @AfterEach
    void close() {
        api.close();
    }

    ObjectNode service(String name, String type, String clusterIp, int nodePort) {
        String ip = clusterIp == null ? "" : "\"clusterIP\": \"" + clusterIp + "\", ";
        String np = nodePort == 0 ? "" : ", \"nodePort\": " + nodePort;
        return api.create(services, "default", "{\"metadata\": {\"name\": \"" + name + "\"}, \"spec\": {" + ip + "\"type\": \"" + type
                + "\", \"selector\": {\"app\": \"" + name + "\"}, \"ports\": [{\"port\": 80" + np + "}]}}");
    }

    ObjectNode service(String name, String clusterIp) {
        return service(name, "ClusterIP", clusterIp, 0);
    }

    ObjectNode update(ObjectNode svc) {
        return api.objects.update(services, "default", svc.at("/metadata/name").asText(), svc, "", WriteOptions.system("test"));
    }

    void delete(String name) {
        api.objects.delete(services, "default", name, DeleteOptions.DEFAULT);
    }

    @Test
    @DisplayName("every Service gets its own cluster IP from the service CIDR, mirrored in spec.clusterIPs")
    void uniqueClusterIps() {
        Set<String> ips = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            ObjectNode s = service("s" + i, null);
            String ip = s.at("/spec/clusterIP").asText();
            assertThat(ip).startsWith("10.43.");
            assertThat(s.at("/spec/clusterIPs/0").asText()).isEqualTo(ip);
            ips.add(ip);
        }
        assertThat(ips).hasSize(30);
    }

    @Test
    @DisplayName("an explicit cluster IP in use: 422 'spec.clusterIPs: Invalid value: []string{\"10.43.0.50\"}: failed to allocate IP 10.43.0.50: provided IP is already allocated'")
    void explicitIpConflict() {
        service("a", "10.43.0.50");
        ApiException e = apiError(() -> service("b", "10.43.0.50"));
        assertThat(e.code()).isEqualTo(422);
        assertThat(e.getMessage()).isEqualTo("Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.43.0.50\"}: "
                + "failed to allocate IP 10.43.0.50: provided IP is already allocated");
    }

    @Test
    @DisplayName("an explicit cluster IP outside the service CIDR: 422 'the provided IP (...) is not in the valid range'")
    void explicitIpOutOfRange() {
        ApiException e = apiError(() -> service("b", "10.44.0.5"));
        assertThat(e.code()).isEqualTo(422);
        assertThat(e.getMessage()).endsWith("failed to allocate IP 10.44.0.5: the provided IP (10.44.0.5) is not in the valid range. "
                + "The range of valid IPs is 10.43.0.0/16");
    }

    @Test
    @DisplayName("a deleted Service's cluster IP can be taken again")
    void ipReleasedOnDelete() {
        service("a", "10.43.0.50");
        delete("a");
        assertThat(service("b", "10.43.0.50").at("/spec/clusterIP").asText()).isEqualTo("10.43.0.50");
    }

    @Test
    @DisplayName("headless Services keep clusterIP None and ExternalName Services get no cluster IP")
    void noIpNeeded() {
        assertThat(service("headless", "None").at("/spec/clusterIPs/0").asText()).isEqualTo("None");
        ObjectNode ext = api.create(services, "default", """
                {"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "example.com"}}
                """);
        assertThat(ext.at("/spec").has("clusterIP")).isFalse();
    }

    @Test
    @DisplayName("NodePort and LoadBalancer Services get node ports from 30000-32767; ClusterIP Services none")
    void nodePorts() {
        int np = service("np", "NodePort", null, 0).at("/spec/ports/0/nodePort").asInt();
        int lb = service("lb", "LoadBalancer", null, 0).at("/spec/ports/0/nodePort").asInt();
        assertThat(np).isBetween(30000, 32767);
        assertThat(lb).isBetween(30000, 32767).isNotEqualTo(np);
        assertThat(service("cip", null).at("/spec/ports/0").has("nodePort")).isFalse();
    }

    @Test
    @DisplayName("an explicit node port in use: 422 'spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated'")
    void nodePortConflict() {
        service("a", "NodePort", null, 30080);
        ApiException e = apiError(() -> service("b", "NodePort", null, 30080));
        assertThat(e.code()).isEqualTo(422);
        assertThat(e.getMessage()).isEqualTo("Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated");
    }

    @Test
    @DisplayName("changing type NodePort to ClusterIP drops and releases the node ports")
    void typeChangeReleasesNodePorts() {
        ObjectNode a = service("a", "NodePort", null, 30080);
        a.withObjectProperty("spec").put("type", "ClusterIP");
        ObjectNode updated = update(a);
        assertThat(updated.at("/spec/ports/0").has("nodePort")).isFalse();
        assertThat(service("b", "NodePort", null, 30080).at("/spec/ports/0/nodePort").asInt()).isEqualTo(30080);
    }

    @Test
    @DisplayName("a create that fails after allocating (another value conflicts, or the name exists) gives back what it allocated")
    void failedCreateReleases() {
        service("taken", "NodePort", null, 30080);
        assertThat(apiError(() -> service("x", "NodePort", "10.43.0.60", 30080)).code()).isEqualTo(422);
        assertThat(service("y", "10.43.0.60").at("/spec/clusterIP").asText()).isEqualTo("10.43.0.60");

        service("dup", "10.43.0.70");
        assertThat(apiError(() -> service("dup", "NodePort", "10.43.0.71", 30090)).code()).isEqualTo(409);
        assertThat(service("z", "NodePort", "10.43.0.71", 30090).at("/spec/clusterIP").asText()).isEqualTo("10.43.0.71");
    }

    @Test
    @DisplayName("an update that leaves out the allocated cluster IP and node port keeps them (patchAllocatedValues)")
    void updateKeepsAllocations() {
        ObjectNode a = service("a", "NodePort", null, 0);
        String ip = a.at("/spec/clusterIP").asText();
        int port = a.at("/spec/ports/0/nodePort").asInt();
        ObjectNode body = a.deepCopy();
        body.withObjectProperty("spec").remove("clusterIP");
        body.withObjectProperty("spec").remove("clusterIPs");
        ((ObjectNode) body.at("/spec/ports/0")).remove("nodePort");
        ObjectNode out = update(body);
        assertThat(out.at("/spec/clusterIP").asText()).isEqualTo(ip);
        assertThat(out.at("/spec/ports/0/nodePort").asInt()).isEqualTo(port);
        assertThat(apiError(() -> service("b", ip)).code()).as("the address is still taken").isEqualTo(422);
    }

    @Test
    @DisplayName("restore marks the values of stored Services as taken (a restarted server)")
    void restore() {
        ObjectNode a = service("a", "NodePort", "10.43.0.80", 30100);
        ServiceStrategy fresh = new ServiceStrategy("10.43.0.0/16");
        fresh.restore(java.util.List.of(a));
        assertThat(catchAllocation(() -> fresh.allocate(services, copyWith("10.43.0.80", 0), null))).contains("provided IP is already allocated");
        assertThat(catchAllocation(() -> fresh.allocate(services, copyWith("", 30100), null))).contains("provided port is already allocated");
    }

    @Test
    @DisplayName("a LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort from the node port range, kept on "
            + "updates that leave it out, dropped and released with policy Cluster, released on delete")
    void healthCheckNodePort() {
        ObjectNode a = api.create(services, "default", "{\"metadata\": {\"name\": \"a\"}, \"spec\": {\"type\": \"LoadBalancer\", "
                + "\"externalTrafficPolicy\": \"Local\", \"ports\": [{\"port\": 80}]}}");
        int hc = a.at("/spec/healthCheckNodePort").asInt();
        assertThat(hc).isBetween(30000, 32767).isNotEqualTo(a.at("/spec/ports/0/nodePort").asInt());
        ObjectNode body = a.deepCopy();
        body.withObjectProperty("spec").remove("healthCheckNodePort");
        assertThat(update(body).at("/spec/healthCheckNodePort").asInt()).isEqualTo(hc);
        assertThat(apiError(() -> service("b", "NodePort", null, hc)).getMessage()).as("the port is taken")
                .contains("provided port is already allocated");

        ObjectNode cluster = api.objects.find(services, "default", "a").orElseThrow().deepCopy();
        cluster.withObjectProperty("spec").put("externalTrafficPolicy", "Cluster");
        assertThat(update(cluster).at("/spec").has("healthCheckNodePort")).isFalse();
        assertThat(service("b", "NodePort", null, hc).at("/spec/ports/0/nodePort").asInt()).as("released").isEqualTo(hc);
        delete("b");

        ObjectNode explicit = api.create(services, "default", "{\"metadata\": {\"name\": \"c\"}, \"spec\": {\"type\": \"LoadBalancer\", "
                + "\"externalTrafficPolicy\": \"Local\", \"healthCheckNodePort\": 30555, \"ports\": [{\"port\": 80}]}}");
        assertThat(explicit.at("/spec/healthCheckNodePort").asInt()).isEqualTo(30555);
        delete("c");
        assertThat(service("d", "NodePort", null, 30555).at("/spec/ports/0/nodePort").asInt()).as("released on delete").isEqualTo(30555);
    }

    @Test
    @DisplayName("healthCheckNodePort on a Service without type LoadBalancer and policy Local: 422")
    void healthCheckNodePortNotAllowed() {
        ApiException e = apiError(() -> api.create(services, "default", "{\"metadata\": {\"name\": \"a\"}, \"spec\": {\"type\": \"NodePort\", "
                + "\"healthCheckNodePort\": 30556, \"ports\": [{\"port\": 80}]}}"));
        assertThat(e.code()).isEqualTo(422);
        assertThat(e.getMessage()).contains("spec.healthCheckNodePort: Invalid value: 30556: may only be set when `type` is 'LoadBalancer'");
    }

    private ObjectNode copyWith(String ip, int nodePort) {
        ObjectNode s = TestApi.json("{\"metadata\": {\"name\": \"n\"}, \"spec\": {\"type\": \"NodePort\", \"ports\": [{\"port\": 80}]}}");
        if (!ip.isEmpty()) s.withObjectProperty("spec").put("clusterIP", ip);
        if (nodePort != 0) ((ObjectNode) s.at("/spec/ports/0")).put("nodePort", nodePort);
        return s;
    }

    private static String catchAllocation(Runnable r) {
        return apiError(r::run).getMessage();
    }
}
