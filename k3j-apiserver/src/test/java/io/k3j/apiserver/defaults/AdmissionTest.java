package io.k3j.apiserver.defaults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.validation.Validation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AdmissionTest {

    private static ObjectNode yaml(String text) {
        return (ObjectNode) Json.parseYamlOrJson(text.getBytes());
    }

    @Test
    @DisplayName("a pod that opts out of token automount gets no token volume, but keeps its service account")
    void automountFalse() {
        ObjectNode pod = yaml("""
                metadata: {name: p, namespace: default}
                spec: {serviceAccountName: builder, automountServiceAccountToken: false, containers: [{name: c, image: x}]}
                """);
        Admission.mutate("", "Pod", pod, "u", new SplittableRandom(1));
        assertThat(pod.at("/spec/serviceAccount").asText()).isEqualTo("builder");
        assertThat(pod.at("/spec/volumes").isMissingNode()).isTrue();
        assertThat(pod.at("/spec/containers/0/volumeMounts").isMissingNode()).isTrue();
    }

    @Test
    @DisplayName("existing NoExecute tolerations for not-ready/unreachable are kept and not duplicated")
    void tolerationsNotDuplicated() {
        ObjectNode pod = yaml("""
                metadata: {name: p, namespace: default}
                spec:
                  containers: [{name: c, image: x}]
                  tolerations: [{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}]
                """);
        Admission.defaultTolerationSeconds(pod);
        assertThat(pod.at("/spec/tolerations")).hasSize(2);
        assertThat(pod.at("/spec/tolerations/0/tolerationSeconds").asInt()).isEqualTo(5);
        assertThat(pod.at("/spec/tolerations/1/key").asText()).isEqualTo("node.kubernetes.io/unreachable");
    }

    @Test
    @DisplayName("system-node-critical pods get priority 2000001000")
    void systemPriority() {
        ObjectNode pod = yaml("spec: {priorityClassName: system-node-critical, containers: [{name: c, image: x}]}");
        Admission.priority(pod);
        assertThat(pod.at("/spec/priority").asLong()).isEqualTo(2000001000L);
    }

    @Test
    @DisplayName("the token volume name is kube-api-access- and 5 characters of the Kubernetes alphabet")
    void tokenVolumeName() {
        ObjectNode pod = yaml("metadata: {name: p}\nspec: {containers: [{name: c, image: x}]}");
        Admission.mutate("", "Pod", pod, "u");
        assertThat(pod.at("/spec/volumes/0/name").asText()).matches("kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}");
    }

    @Test
    @DisplayName("defaulted and admitted pods and jobs pass validation")
    void pipelineProducesValidObjects() {
        ObjectNode pod = yaml("""
                metadata: {name: p, namespace: default}
                spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}], readinessProbe: {httpGet: {port: 80}}}]}
                """);
        Defaulters.apply("", "v1", "Pod", pod);
        Admission.mutate("", "Pod", pod, "u");
        assertThat(Validation.validateCreate("", "Pod", pod)).isEmpty();

        ObjectNode job = yaml("""
                metadata: {name: pi, namespace: default, uid: 0b1c}
                spec: {template: {metadata: {labels: {app: pi}}, spec: {restartPolicy: Never, containers: [{name: c, image: perl}]}}}
                """);
        Defaulters.apply("batch", "v1", "Job", job);
        Admission.mutate("batch", "Job", job, "0b1c");
        assertThat(Validation.validateCreate("batch", "Job", job)).isEmpty();
    }

    @Test
    @DisplayName("a Job whose user selector is not the generated one is rejected")
    void userSelectorWithoutManualSelector() {
        ObjectNode job = yaml("""
                metadata: {name: pi, namespace: default, uid: u1}
                spec:
                  selector: {matchLabels: {app: pi}}
                  template: {metadata: {labels: {app: pi}}, spec: {restartPolicy: Never, containers: [{name: c, image: perl}]}}
                """);
        Defaulters.apply("batch", "v1", "Job", job);
        Admission.mutate("batch", "Job", job, "u1");
        assertThat(Validation.validateCreate("batch", "Job", job)).extracting(c -> c.render()).containsExactly(
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"pi\", "
                        + "\"batch.kubernetes.io/controller-uid\":\"u1\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
                        + "`selector` not auto-generated");
    }
}
