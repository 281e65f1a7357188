package io.k3j.api.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.kubernetes.client.proto.IntStr.IntOrString;
import io.kubernetes.client.proto.Meta.FieldsV1;
import io.kubernetes.client.proto.Meta.ManagedFieldsEntry;
import io.kubernetes.client.proto.Meta.MicroTime;
import io.kubernetes.client.proto.Meta.ObjectMeta;
import io.kubernetes.client.proto.Meta.Time;
import io.kubernetes.client.proto.Resource.Quantity;
import io.kubernetes.client.proto.Runtime.RawExtension;
import io.kubernetes.client.proto.Runtime.TypeMeta;
import io.kubernetes.client.proto.Runtime.Unknown;
import io.kubernetes.client.proto.V1;
import io.kubernetes.client.proto.V1Apps;
import io.kubernetes.client.proto.V1Authentication;
import io.kubernetes.client.proto.V1Authorization;
import io.kubernetes.client.proto.V1Policy;
import io.kubernetes.client.proto.V1Scheduling;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Messages built with the generated classes of client-java-proto, enveloped as kubectl does. Scalars that gogo
 * always writes (non-pointer fields) are set explicitly to their zero values where it matters, since Java's
 * proto2 encoder writes only what was set.
 */
class KubeProtobufTest {

    static byte[] envelope(String apiVersion, String kind, MessageLite object) {
        return envelope(apiVersion, kind, object.toByteString());
    }

    static byte[] envelope(String apiVersion, String kind, ByteString raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {'k', '8', 's', 0});
        out.writeBytes(Unknown.newBuilder()
                .setTypeMeta(TypeMeta.newBuilder().setApiVersion(apiVersion).setKind(kind))
                .setRaw(raw).setContentEncoding("").setContentType("")
                .build().toByteArray());
        return out.toByteArray();
    }

    static JsonNode json(String text) {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    static ObjectMeta.Builder meta(String name) {
        return ObjectMeta.newBuilder().setName(name).setGenerateName("").setNamespace("")
                .setCreationTimestamp(Time.getDefaultInstance());
    }

    @Test
    @DisplayName("Deployment replicas 0 (a *int32) is kept; zero non-pointer omitempty scalars are dropped")
    void deploymentReplicasZero() {
        var deployment = V1Apps.Deployment.newBuilder()
                .setMetadata(meta("web").putLabels("app", "web"))
                .setSpec(V1Apps.DeploymentSpec.newBuilder()
                        .setReplicas(0).setMinReadySeconds(0).setPaused(false)
                        .setSelector(io.kubernetes.client.proto.Meta.LabelSelector.newBuilder().putMatchLabels("app", "web"))
                        .setStrategy(V1Apps.DeploymentStrategy.newBuilder().setType(""))
                        .setTemplate(V1.PodTemplateSpec.newBuilder()
                                .setMetadata(meta("").putLabels("app", "web"))
                                .setSpec(V1.PodSpec.newBuilder()
                                        .setRestartPolicy("").setHostNetwork(false)
                                        .addContainers(V1.Container.newBuilder().setName("nginx").setImage("nginx:1.25")
                                                .setImagePullPolicy("").setStdin(false)
                                                .setResources(V1.ResourceRequirements.getDefaultInstance())))))
                .setStatus(V1Apps.DeploymentStatus.newBuilder().setReplicas(0).setObservedGeneration(0))
                .build();

        assertThat(KubeProtobuf.decode(envelope("apps/v1", "Deployment", deployment))).isEqualTo(json("""
                {"kind":"Deployment","apiVersion":"apps/v1",
                 "metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},
                 "spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},
                   "template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},
                     "spec":{"containers":[{"name":"nginx","image":"nginx:1.25","resources":{}}]}},
                   "strategy":{}},
                 "status":{}}"""));
    }

    @Test
    @DisplayName("Secret data (map<string,bytes>) becomes base64 strings, stringData stays text, immutable false is kept")
    void secretBytes() {
        var secret = V1.Secret.newBuilder().setMetadata(meta("s"))
                .putData("a", ByteString.copyFromUtf8("b"))
                .putData("bin", ByteString.copyFrom(new byte[] {0, (byte) 0xff, 0x10}))
                .putStringData("plain", "text").setType("Opaque").setImmutable(false)
                .build();
        assertThat(KubeProtobuf.decode(envelope("v1", "Secret", secret))).isEqualTo(json("""
                {"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","creationTimestamp":null},
                 "immutable":false,"data":{"a":"Yg==","bin":"AP8Q"},"stringData":{"plain":"text"},"type":"Opaque"}"""));
    }

    @Test
    @DisplayName("IntOrString becomes a number or a string; Quantity becomes its string")
    void intOrStringAndQuantity() {
        var service = V1.Service.newBuilder().setMetadata(meta("svc"))
                .setSpec(V1.ServiceSpec.newBuilder()
                        .addPorts(V1.ServicePort.newBuilder().setName("a").setProtocol("TCP").setPort(80).setNodePort(0)
                                .setTargetPort(IntOrString.newBuilder().setType(0).setIntVal(8080).setStrVal("")))
                        .addPorts(V1.ServicePort.newBuilder().setName("b").setPort(0)
                                .setTargetPort(IntOrString.newBuilder().setType(1).setIntVal(0).setStrVal("http")))
                        .setType("ClusterIP"))
                .build();
        assertThat(KubeProtobuf.decode(envelope("v1", "Service", service)).get("spec")).isEqualTo(json("""
                {"ports":[{"name":"a","protocol":"TCP","port":80,"targetPort":8080},
                          {"name":"b","port":0,"targetPort":"http"}],
                 "type":"ClusterIP"}"""));

        var quota = V1.ResourceQuota.newBuilder().setMetadata(meta("q"))
                .setSpec(V1.ResourceQuotaSpec.newBuilder()
                        .putHard("cpu", Quantity.newBuilder().setString("1500m").build())
                        .putHard("pods", Quantity.newBuilder().setString("2").build()))
                .build();
        assertThat(KubeProtobuf.decode(envelope("v1", "ResourceQuota", quota)).get("spec"))
                .isEqualTo(json("{\"hard\":{\"cpu\":\"1500m\",\"pods\":\"2\"}}"));

        var pdb = V1Policy.PodDisruptionBudget.newBuilder().setMetadata(meta("pdb"))
                .setSpec(V1Policy.PodDisruptionBudgetSpec.newBuilder()
                        .setMinAvailable(IntOrString.newBuilder().setType(1).setIntVal(0).setStrVal("50%")))
                .build();
        assertThat(KubeProtobuf.decode(envelope("policy/v1", "PodDisruptionBudget", pdb)).at("/spec/minAvailable").asText())
                .isEqualTo("50%");
    }

    @Test
    @DisplayName("Time is RFC 3339 in UTC without nanoseconds, MicroTime keeps microseconds, the zero Time is null")
    // reportingComponent/reportingInstance have no omitempty in Go: JSON shows them empty, as kubectl get -o json does
    void times() {
        var event = V1.Event.newBuilder()
                .setMetadata(meta("e").setDeletionTimestamp(Time.newBuilder().setSeconds(1_700_000_000L).setNanos(999_999_999)))
                .setFirstTimestamp(Time.newBuilder().setSeconds(0).setNanos(0))
                .setLastTimestamp(Time.getDefaultInstance())
                .setEventTime(MicroTime.newBuilder().setSeconds(1_700_000_000L).setNanos(123_456_789))
                .setCount(0).setReason("")
                .build();
        assertThat(KubeProtobuf.decode(envelope("v1", "Event", event))).isEqualTo(json("""
                {"kind":"Event","apiVersion":"v1",
                 "metadata":{"name":"e","creationTimestamp":null,"deletionTimestamp":"2023-11-14T22:13:20Z"},
                 "firstTimestamp":"1970-01-01T00:00:00Z","lastTimestamp":null,
                 "eventTime":"2023-11-14T22:13:20.123456Z",
                 "reportingComponent":"","reportingInstance":""}"""));
    }

    @Test
    @DisplayName("RawExtension embeds its JSON, or decodes a nested protobuf object; FieldsV1 embeds its JSON")
    void rawExtensionAndFieldsV1() {
        var revision = V1Apps.ControllerRevision.newBuilder()
                .setMetadata(meta("rev").addManagedFields(ManagedFieldsEntry.newBuilder()
                        .setManager("kubectl").setOperation("Update").setFieldsType("FieldsV1")
                        .setFieldsV1(FieldsV1.newBuilder().setRaw(ByteString.copyFromUtf8("{\"f:data\":{}}")))))
                .setData(RawExtension.newBuilder().setRaw(ByteString.copyFromUtf8("{\"spec\":{\"x\":[1,2]}}")))
                .setRevision(0)
                .build();
        assertThat(KubeProtobuf.decode(envelope("apps/v1", "ControllerRevision", revision))).isEqualTo(json("""
                {"kind":"ControllerRevision","apiVersion":"apps/v1",
                 "metadata":{"name":"rev","creationTimestamp":null,"managedFields":[
                   {"manager":"kubectl","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:data":{}}}]},
                 "data":{"spec":{"x":[1,2]}},"revision":0}"""));

        var nested = V1.ConfigMap.newBuilder().setMetadata(ObjectMeta.newBuilder().setName("inner")).putData("k", "v").build();
        var outer = V1Apps.ControllerRevision.newBuilder().setMetadata(ObjectMeta.newBuilder().setName("rev"))
                .setData(RawExtension.newBuilder().setRaw(ByteString.copyFrom(envelope("v1", "ConfigMap", nested))))
                .setRevision(3).build();
        assertThat(KubeProtobuf.decode(envelope("apps/v1", "ControllerRevision", outer)).get("data")).isEqualTo(json("""
                {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"inner"},"data":{"k":"v"}}"""));
    }

    @Test
    @DisplayName("Embedded Go structs are inlined: Volume sources, LocalObjectReference, Probe handlers")
    void inlineEmbeddedStructs() {
        var pod = V1.Pod.newBuilder().setMetadata(ObjectMeta.newBuilder().setName("p"))
                .setSpec(V1.PodSpec.newBuilder()
                        .addVolumes(V1.Volume.newBuilder().setName("cfg").setVolumeSource(V1.VolumeSource.newBuilder()
                                .setConfigMap(V1.ConfigMapVolumeSource.newBuilder()
                                        .setLocalObjectReference(V1.LocalObjectReference.newBuilder().setName("settings"))
                                        .setOptional(false))))
                        .addContainers(V1.Container.newBuilder().setName("c").setImage("i")
                                .setLivenessProbe(V1.Probe.newBuilder().setHandler(V1.ProbeHandler.newBuilder()
                                        .setHttpGet(V1.HTTPGetAction.newBuilder().setPath("/healthz")
                                                .setPort(IntOrString.newBuilder().setType(0).setIntVal(8080))))
                                        .setPeriodSeconds(10).setTimeoutSeconds(0))
                                .addEnv(V1.EnvVar.newBuilder().setName("K").setValueFrom(V1.EnvVarSource.newBuilder()
                                        .setSecretKeyRef(V1.SecretKeySelector.newBuilder().setKey("k")
                                                .setLocalObjectReference(V1.LocalObjectReference.newBuilder().setName("sec"))))))
                        .setAutomountServiceAccountToken(false)
                        .setTerminationGracePeriodSeconds(0))
                .build();
        assertThat(KubeProtobuf.decode(envelope("v1", "Pod", pod)).get("spec")).isEqualTo(json("""
                {"volumes":[{"name":"cfg","configMap":{"name":"settings","optional":false}}],
                 "containers":[{"name":"c","image":"i",
                   "env":[{"name":"K","valueFrom":{"secretKeyRef":{"name":"sec","key":"k"}}}],
                   "livenessProbe":{"httpGet":{"path":"/healthz","port":8080},"periodSeconds":10}}],
                 "terminationGracePeriodSeconds":0,"automountServiceAccountToken":false}"""));
    }

    @Test
    @DisplayName("Non-omitempty fields are shown even when absent; proto names that are not JSON names are renamed")
    void alwaysShownAndRenamed() {
        var priorityClass = V1Scheduling.PriorityClass.newBuilder().setMetadata(ObjectMeta.newBuilder().setName("pc"))
                .setGlobalDefault(false).setDescription("").build();
        assertThat(KubeProtobuf.decode(envelope("scheduling.k8s.io/v1", "PriorityClass", priorityClass))).isEqualTo(json("""
                {"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{"name":"pc"},"value":0}"""));

        var token = V1Authentication.TokenRequest.newBuilder().setMetadata(ObjectMeta.newBuilder().setName("sa"))
                .setSpec(V1Authentication.TokenRequestSpec.newBuilder()
                        .setBoundObjectRef(V1Authentication.BoundObjectReference.newBuilder()
                                .setKind("Pod").setApiVersion("v1").setName("p").setUID("1234")))
                .build();
        assertThat(KubeProtobuf.decode(envelope("authentication.k8s.io/v1", "TokenRequest", token)).at("/spec/boundObjectRef"))
                .isEqualTo(json("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"p\",\"uid\":\"1234\"}"));
    }

    @Test
    @DisplayName("ExtraValue (a Go []string) is a JSON array")
    void namedSlices() {
        var review = V1Authorization.SubjectAccessReview.newBuilder().setMetadata(ObjectMeta.getDefaultInstance())
                .setSpec(V1Authorization.SubjectAccessReviewSpec.newBuilder().setUser("bob")
                        .putExtra("scopes", V1Authorization.ExtraValue.newBuilder().addItems("a").addItems("b").build())
                        .setResourceAttributes(V1Authorization.ResourceAttributes.newBuilder().setVerb("get").setResource("pods")))
                .setStatus(V1Authorization.SubjectAccessReviewStatus.newBuilder().setAllowed(false))
                .build();
        assertThat(KubeProtobuf.decode(envelope("authorization.k8s.io/v1", "SubjectAccessReview", review))).isEqualTo(json("""
                {"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{},
                 "spec":{"resourceAttributes":{"verb":"get","resource":"pods"},"user":"bob","extra":{"scopes":["a","b"]}},
                 "status":{"allowed":false}}"""));
    }

    @Test
    @DisplayName("apiVersion and kind fall back to the request's when the envelope lacks them")
    void defaultsFromRequest() {
        var cm = V1.ConfigMap.newBuilder().setMetadata(ObjectMeta.newBuilder().setName("x")).build();
        assertThat(KubeProtobuf.decode(envelope("", "", cm), "v1", "ConfigMap").get("kind").asText()).isEqualTo("ConfigMap");
        assertThat(KubeProtobuf.decode(envelope("v1", "ConfigMap", cm), "apps/v1", "Deployment").get("kind").asText())
                .isEqualTo("ConfigMap");
    }

    @Test
    @DisplayName("Malformed bodies and unknown types are 400 BadRequest naming what is wrong")
    void errors() {
        assertBadRequest(new byte[0], "empty data");
        assertBadRequest("{\"kind\":\"ConfigMap\"}".getBytes(StandardCharsets.UTF_8), "does not appear to be a protobuf message");
        assertBadRequest(new byte[] {'k', '8', 's', 0}, "empty body");
        assertBadRequest(new byte[] {'k', '8', 's', 0, 0x0a, 0x7f, 0x01}, "error decoding protobuf envelope");
        var cm = V1.ConfigMap.newBuilder().setMetadata(ObjectMeta.newBuilder().setName("x")).build();
        assertBadRequest(envelope("", "", cm), "Object 'Kind' is missing");
        assertBadRequest(envelope("", "ConfigMap", cm), "'apiVersion' is missing");
        assertBadRequest(envelope("stable.example.com/v1", "CronTab", cm), "no kind \"CronTab\" is registered for version \"stable.example.com/v1\"");
        assertBadRequest(envelope("apps.example.com/v1", "Deployment", cm), "no kind \"Deployment\" is registered for version \"apps.example.com/v1\"");
        assertBadRequest(envelope("v1", "PodSpec", cm), "no kind \"PodSpec\"");
        assertBadRequest(envelope("v9", "ConfigMap", cm), "no kind \"ConfigMap\" is registered for version \"v9\"");
        byte[] raw = cm.toByteArray();
        assertBadRequest(envelope("v1", "ConfigMap", ByteString.copyFrom(Arrays.copyOf(raw, raw.length - 1))),
                "error decoding protobuf ConfigMap (v1)");
        var badJson = V1Apps.ControllerRevision.newBuilder().setMetadata(ObjectMeta.getDefaultInstance())
                .setData(RawExtension.newBuilder().setRaw(ByteString.copyFromUtf8("{nope"))).build();
        assertBadRequest(envelope("apps/v1", "ControllerRevision", badJson), "error decoding JSON");
    }

    @Test
    @DisplayName("RawExtension nesting is bounded")
    void nestingBounded() {
        byte[] body = envelope("v1", "ConfigMap", V1.ConfigMap.getDefaultInstance());
        for (int i = 0; i < 40; i++) {
            body = envelope("apps/v1", "ControllerRevision", V1Apps.ControllerRevision.newBuilder()
                    .setData(RawExtension.newBuilder().setRaw(ByteString.copyFrom(body))).build());
        }
        assertBadRequest(body, "nested deeper than");
    }

    @Test
    @DisplayName("DeleteOptions is served from meta/v1 in any group version")
    void deleteOptions() {
        var options = io.kubernetes.client.proto.Meta.DeleteOptions.newBuilder()
                .setGracePeriodSeconds(0).setPropagationPolicy("Foreground").build();
        assertThat(KubeProtobuf.decode(envelope("apps/v1", "DeleteOptions", options))).isEqualTo(json("""
                {"kind":"DeleteOptions","apiVersion":"apps/v1","gracePeriodSeconds":0,"propagationPolicy":"Foreground"}"""));
    }

    private static void assertBadRequest(byte[] body, String message) {
        assertThatThrownBy(() -> KubeProtobuf.decode(body))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(400))
                .hasMessageContaining(message);
    }
}
