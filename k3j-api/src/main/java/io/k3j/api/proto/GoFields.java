package io.k3j.api.proto;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What the proto descriptors cannot tell about the Go structs behind them, and which decides the JSON a Go
 * client would have sent.
 *
 * <p>gogo-protobuf writes every non-pointer scalar field, zero or not, and a pointer field only when it is
 * set. Go's {@code encoding/json} then drops zero values of {@code omitempty} fields but keeps a set pointer
 * even when it points at zero ({@code replicas: 0}, {@code automountServiceAccountToken: false}). So for a
 * scalar field present on the wire with its zero value:
 * <ul>
 *   <li>a Go pointer ({@code *int32}, {@code *bool}, {@code *string}, ...): keep it;</li>
 *   <li>a non-pointer whose JSON tag lacks {@code omitempty}: keep it, and fill in the zero value when the
 *       field is absent altogether, as Go would after decoding;</li>
 *   <li>everything else (non-pointer, {@code omitempty} - by far the most fields): drop it.</li>
 * </ul>
 * The first two cases are listed below: each line names a message (without the {@code k8s.io.} prefix) and
 * its fields, {@code *} marking pointers and {@code !} non-omitempty fields. Slices and maps without
 * omitempty are listed too: absent (gogo writes nothing for an empty one) they are nil in Go, which JSON
 * shows as {@code null} ({@code "rules": null} in an aggregated ClusterRole). The list was derived
 * from the Go struct tags of k8s.io/api and k8s.io/apimachinery (types.go); message fields need no entry
 * because gogo writes a non-pointer struct always and a pointer struct only when set, which is exactly when
 * Go's JSON shows them. Types that the descriptors know but the list does not follow the default rule.
 */
final class GoFields {
    /** Go-embedded structs whose fields JSON shows inline, though protobuf nests them under a field name. */
    private static final Set<String> INLINE = Set.of(
            "k8s.io.api.core.v1.Volume.volumeSource",
            "k8s.io.api.core.v1.PersistentVolumeSpec.persistentVolumeSource",
            "k8s.io.api.core.v1.Probe.handler",
            "k8s.io.api.core.v1.EphemeralContainer.ephemeralContainerCommon",
            "k8s.io.api.core.v1.ConfigMapEnvSource.localObjectReference",
            "k8s.io.api.core.v1.ConfigMapKeySelector.localObjectReference",
            "k8s.io.api.core.v1.ConfigMapProjection.localObjectReference",
            "k8s.io.api.core.v1.ConfigMapVolumeSource.localObjectReference",
            "k8s.io.api.core.v1.SecretEnvSource.localObjectReference",
            "k8s.io.api.core.v1.SecretKeySelector.localObjectReference",
            "k8s.io.api.core.v1.SecretProjection.localObjectReference",
            "k8s.io.api.networking.v1.IngressRule.ingressRuleValue",
            "k8s.io.api.networking.v1beta1.IngressRule.ingressRuleValue",
            "k8s.io.api.extensions.v1beta1.IngressRule.ingressRuleValue",
            "k8s.io.api.admissionregistration.v1.NamedRuleWithOperations.ruleWithOperations",
            "k8s.io.api.admissionregistration.v1.RuleWithOperations.rule",
            "k8s.io.api.admissionregistration.v1beta1.NamedRuleWithOperations.ruleWithOperations",
            "k8s.io.api.admissionregistration.v1beta1.RuleWithOperations.rule",
            "k8s.io.api.admissionregistration.v1alpha1.NamedRuleWithOperations.ruleWithOperations");

    /**
     * Proto field names that are not the JSON name. Elsewhere go-to-protobuf names proto fields after the
     * JSON tag; these few Go fields had none when they were added, so their proto name came from the Go name.
     */
    private static final Map<String, String> JSON_NAMES = Map.of(
            "k8s.io.api.authentication.v1.BoundObjectReference.uID", "uid",
            "k8s.io.api.networking.v1.IngressClassParametersReference.aPIGroup", "apiGroup",
            "k8s.io.api.networking.v1beta1.IngressClassParametersReference.aPIGroup", "apiGroup");

    private static final Map<String, Character> SCALARS = parse(table());

    private GoFields() {}

    static boolean inline(String message, String field) {
        return INLINE.contains(message + "." + field);
    }

    /** The JSON name: the proto name, or a listed exception, or (Webhooks, Expression, Name) decapitalised. */
    static String jsonName(String message, String field) {
        String mapped = JSON_NAMES.get(message + "." + field);
        if (mapped != null) return mapped;
        if (!field.isEmpty() && Character.isUpperCase(field.charAt(0))) {
            return Character.toLowerCase(field.charAt(0)) + field.substring(1);
        }
        return field;
    }

    /** A Go pointer: a zero value on the wire was set on purpose and JSON shows it. */
    static boolean pointer(String message, String field) {
        Character mark = SCALARS.get(message + "." + field);
        return mark != null && mark == '*';
    }

    /** A non-pointer field without omitempty: JSON always shows it, zero, empty or nil. */
    static boolean alwaysShown(String message, String field) {
        Character mark = SCALARS.get(message + "." + field);
        return mark != null && mark == '!';
    }

    private static Map<String, Character> parse(String table) {
        Map<String, Character> marks = new HashMap<>(1024);
        for (String line : table.split("\n")) {
            String[] words = line.trim().split(" +");
            if (words.length < 2) continue;
            String message = "k8s.io." + words[0];
            for (int i = 1; i < words.length; i++) {
                marks.put(message + "." + words[i].substring(1), words[i].charAt(0));
            }
        }
        return marks;
    }

    // One line per message: '*' = Go pointer, '!' = no omitempty.
    private static String table() {
        return """
                api.admission.v1.AdmissionRequest *dryRun !operation !uid
                api.admission.v1.AdmissionResponse !allowed *patchType !uid
                api.admission.v1beta1.AdmissionRequest *dryRun !operation !uid
                api.admission.v1beta1.AdmissionResponse !allowed *patchType !uid
                api.admissionregistration.v1.AuditAnnotation !key !valueExpression
                api.admissionregistration.v1.ExpressionWarning !fieldRef !warning
                api.admissionregistration.v1.MatchCondition !expression !name
                api.admissionregistration.v1.MatchResources *matchPolicy
                api.admissionregistration.v1.MutatingWebhook !admissionReviewVersions *failurePolicy *matchPolicy !name *reinvocationPolicy *sideEffects *timeoutSeconds
                api.admissionregistration.v1.MutatingWebhookConfigurationList !items
                api.admissionregistration.v1.ParamRef *parameterNotFoundAction
                api.admissionregistration.v1.Rule *scope
                api.admissionregistration.v1.ServiceReference !name !namespace *path *port
                api.admissionregistration.v1.ValidatingAdmissionPolicyBindingList !items
                api.admissionregistration.v1.ValidatingAdmissionPolicyList !items
                api.admissionregistration.v1.ValidatingAdmissionPolicySpec *failurePolicy
                api.admissionregistration.v1.ValidatingWebhook !admissionReviewVersions *failurePolicy *matchPolicy !name *sideEffects *timeoutSeconds
                api.admissionregistration.v1.ValidatingWebhookConfigurationList !items
                api.admissionregistration.v1.Validation !Expression *reason
                api.admissionregistration.v1.Variable !Expression !Name
                api.admissionregistration.v1.WebhookClientConfig *url
                api.admissionregistration.v1beta1.AuditAnnotation !key !valueExpression
                api.admissionregistration.v1beta1.ExpressionWarning !fieldRef !warning
                api.admissionregistration.v1beta1.MatchCondition !expression !name
                api.admissionregistration.v1beta1.MatchResources *matchPolicy
                api.admissionregistration.v1beta1.MutatingWebhook *failurePolicy *matchPolicy !name *reinvocationPolicy *sideEffects *timeoutSeconds
                api.admissionregistration.v1beta1.MutatingWebhookConfigurationList !items
                api.admissionregistration.v1beta1.ParamRef *parameterNotFoundAction
                api.admissionregistration.v1beta1.ServiceReference !name !namespace *path *port
                api.admissionregistration.v1beta1.ValidatingAdmissionPolicyBindingList !items
                api.admissionregistration.v1beta1.ValidatingAdmissionPolicyList !items
                api.admissionregistration.v1beta1.ValidatingAdmissionPolicySpec *failurePolicy
                api.admissionregistration.v1beta1.ValidatingWebhook *failurePolicy *matchPolicy !name *sideEffects *timeoutSeconds
                api.admissionregistration.v1beta1.ValidatingWebhookConfigurationList !items
                api.admissionregistration.v1beta1.Validation !Expression *reason
                api.admissionregistration.v1beta1.Variable !Expression !Name
                api.admissionregistration.v1beta1.WebhookClientConfig *url
                api.apps.v1.ControllerRevision !revision
                api.apps.v1.ControllerRevisionList !items
                api.apps.v1.DaemonSetCondition !status !type
                api.apps.v1.DaemonSetList !items
                api.apps.v1.DaemonSetSpec *revisionHistoryLimit
                api.apps.v1.DaemonSetStatus *collisionCount !currentNumberScheduled !desiredNumberScheduled !numberMisscheduled !numberReady
                api.apps.v1.DeploymentCondition !status !type
                api.apps.v1.DeploymentList !items
                api.apps.v1.DeploymentSpec *progressDeadlineSeconds *replicas *revisionHistoryLimit
                api.apps.v1.DeploymentStatus *collisionCount
                api.apps.v1.ReplicaSetCondition !status !type
                api.apps.v1.ReplicaSetList !items
                api.apps.v1.ReplicaSetSpec *replicas
                api.apps.v1.ReplicaSetStatus !replicas
                api.apps.v1.RollingUpdateStatefulSetStrategy *partition
                api.apps.v1.StatefulSetCondition !status !type
                api.apps.v1.StatefulSetList !items
                api.apps.v1.StatefulSetOrdinals !start
                api.apps.v1.StatefulSetSpec *replicas *revisionHistoryLimit !serviceName
                api.apps.v1.StatefulSetStatus !availableReplicas *collisionCount !replicas
                api.apps.v1beta1.ControllerRevision !revision
                api.apps.v1beta1.ControllerRevisionList !items
                api.apps.v1beta1.DeploymentCondition !status !type
                api.apps.v1beta1.DeploymentList !items
                api.apps.v1beta1.DeploymentRollback !name
                api.apps.v1beta1.DeploymentSpec *progressDeadlineSeconds *replicas *revisionHistoryLimit
                api.apps.v1beta1.DeploymentStatus *collisionCount
                api.apps.v1beta1.RollingUpdateStatefulSetStrategy *partition
                api.apps.v1beta1.ScaleStatus !replicas
                api.apps.v1beta1.StatefulSetCondition !status !type
                api.apps.v1beta1.StatefulSetList !items
                api.apps.v1beta1.StatefulSetOrdinals !start
                api.apps.v1beta1.StatefulSetSpec *replicas *revisionHistoryLimit !serviceName
                api.apps.v1beta1.StatefulSetStatus !availableReplicas *collisionCount *observedGeneration !replicas
                api.apps.v1beta2.ControllerRevision !revision
                api.apps.v1beta2.ControllerRevisionList !items
                api.apps.v1beta2.DaemonSetCondition !status !type
                api.apps.v1beta2.DaemonSetList !items
                api.apps.v1beta2.DaemonSetSpec *revisionHistoryLimit
                api.apps.v1beta2.DaemonSetStatus *collisionCount !currentNumberScheduled !desiredNumberScheduled !numberMisscheduled !numberReady
                api.apps.v1beta2.DeploymentCondition !status !type
                api.apps.v1beta2.DeploymentList !items
                api.apps.v1beta2.DeploymentSpec *progressDeadlineSeconds *replicas *revisionHistoryLimit
                api.apps.v1beta2.DeploymentStatus *collisionCount
                api.apps.v1beta2.ReplicaSetCondition !status !type
                api.apps.v1beta2.ReplicaSetList !items
                api.apps.v1beta2.ReplicaSetSpec *replicas
                api.apps.v1beta2.ReplicaSetStatus !replicas
                api.apps.v1beta2.RollingUpdateStatefulSetStrategy *partition
                api.apps.v1beta2.ScaleStatus !replicas
                api.apps.v1beta2.StatefulSetCondition !status !type
                api.apps.v1beta2.StatefulSetList !items
                api.apps.v1beta2.StatefulSetOrdinals !start
                api.apps.v1beta2.StatefulSetSpec *replicas *revisionHistoryLimit !serviceName
                api.apps.v1beta2.StatefulSetStatus !availableReplicas *collisionCount !replicas
                api.authentication.v1.TokenRequestSpec !audiences *expirationSeconds
                api.authentication.v1.TokenRequestStatus !token
                api.authorization.v1.NonResourceRule !verbs
                api.authorization.v1.ResourceRule !verbs
                api.authorization.v1.SubjectAccessReviewStatus !allowed
                api.authorization.v1.SubjectRulesReviewStatus !incomplete !nonResourceRules !resourceRules
                api.authorization.v1beta1.NonResourceRule !verbs
                api.authorization.v1beta1.ResourceRule !verbs
                api.authorization.v1beta1.SubjectAccessReviewStatus !allowed
                api.authorization.v1beta1.SubjectRulesReviewStatus !incomplete !nonResourceRules !resourceRules
                api.autoscaling.v1.ContainerResourceMetricSource !container !name *targetAverageUtilization
                api.autoscaling.v1.ContainerResourceMetricStatus !container *currentAverageUtilization !name
                api.autoscaling.v1.CrossVersionObjectReference !kind !name
                api.autoscaling.v1.ExternalMetricSource !metricName
                api.autoscaling.v1.ExternalMetricStatus !metricName
                api.autoscaling.v1.HorizontalPodAutoscalerCondition !status !type
                api.autoscaling.v1.HorizontalPodAutoscalerList !items
                api.autoscaling.v1.HorizontalPodAutoscalerSpec !maxReplicas *minReplicas *targetCPUUtilizationPercentage
                api.autoscaling.v1.HorizontalPodAutoscalerStatus *currentCPUUtilizationPercentage !currentReplicas !desiredReplicas *observedGeneration
                api.autoscaling.v1.MetricSpec !type
                api.autoscaling.v1.MetricStatus !type
                api.autoscaling.v1.ObjectMetricSource !metricName
                api.autoscaling.v1.ObjectMetricStatus !metricName
                api.autoscaling.v1.PodsMetricSource !metricName
                api.autoscaling.v1.PodsMetricStatus !metricName
                api.autoscaling.v1.ResourceMetricSource !name *targetAverageUtilization
                api.autoscaling.v1.ResourceMetricStatus *currentAverageUtilization !name
                api.autoscaling.v1.ScaleStatus !replicas
                api.batch.v1.CronJobList !items
                api.batch.v1.CronJobSpec *failedJobsHistoryLimit !schedule *startingDeadlineSeconds *successfulJobsHistoryLimit *suspend *timeZone
                api.batch.v1.JobCondition !status !type
                api.batch.v1.JobList !items
                api.batch.v1.JobSpec *activeDeadlineSeconds *backoffLimit *backoffLimitPerIndex *completionMode *completions *managedBy *manualSelector *maxFailedIndexes *parallelism *podReplacementPolicy *suspend *ttlSecondsAfterFinished
                api.batch.v1.JobStatus *failedIndexes *ready *terminating
                api.batch.v1.PodFailurePolicy !rules
                api.batch.v1.PodFailurePolicyOnExitCodesRequirement *containerName !operator !values
                api.batch.v1.PodFailurePolicyOnPodConditionsPattern !status !type
                api.batch.v1.PodFailurePolicyRule !action
                api.batch.v1.SuccessPolicy !rules
                api.batch.v1.SuccessPolicyRule *succeededCount *succeededIndexes
                api.batch.v1beta1.CronJobList !items
                api.batch.v1beta1.CronJobSpec *failedJobsHistoryLimit !schedule *startingDeadlineSeconds *successfulJobsHistoryLimit *suspend *timeZone
                api.certificates.v1.CertificateSigningRequestCondition !status !type
                api.certificates.v1.CertificateSigningRequestList !items
                api.certificates.v1.CertificateSigningRequestSpec *expirationSeconds !request !signerName
                api.certificates.v1beta1.CertificateSigningRequestCondition !status !type
                api.certificates.v1beta1.CertificateSigningRequestList !items
                api.certificates.v1beta1.CertificateSigningRequestSpec *expirationSeconds !request *signerName
                api.core.v1.AWSElasticBlockStoreVolumeSource !volumeID
                api.core.v1.AppArmorProfile *localhostProfile !type
                api.core.v1.AttachedVolume !devicePath !name
                api.core.v1.AzureDiskVolumeSource *cachingMode !diskName !diskURI *fsType *kind *readOnly
                api.core.v1.AzureFilePersistentVolumeSource !secretName *secretNamespace !shareName
                api.core.v1.AzureFileVolumeSource !secretName !shareName
                api.core.v1.CSIPersistentVolumeSource !driver !volumeHandle
                api.core.v1.CSIVolumeSource !driver *fsType *readOnly
                api.core.v1.CephFSPersistentVolumeSource !monitors
                api.core.v1.CephFSVolumeSource !monitors
                api.core.v1.CinderPersistentVolumeSource !volumeID
                api.core.v1.CinderVolumeSource !volumeID
                api.core.v1.ClientIPConfig *timeoutSeconds
                api.core.v1.ClusterTrustBundleProjection *name *optional !path *signerName
                api.core.v1.ComponentCondition !status !type
                api.core.v1.ComponentStatusList !items
                api.core.v1.ConfigMap *immutable
                api.core.v1.ConfigMapEnvSource *optional
                api.core.v1.ConfigMapKeySelector !key *optional
                api.core.v1.ConfigMapList !items
                api.core.v1.ConfigMapNodeConfigSource !kubeletConfigKey !name !namespace
                api.core.v1.ConfigMapProjection *optional
                api.core.v1.ConfigMapVolumeSource *defaultMode *optional
                api.core.v1.Container !name *restartPolicy
                api.core.v1.ContainerImage !names
                api.core.v1.ContainerPort !containerPort
                api.core.v1.ContainerResizePolicy !resourceName !restartPolicy
                api.core.v1.ContainerStateTerminated !exitCode
                api.core.v1.ContainerStatus !image !imageID !name !ready !restartCount *started
                api.core.v1.DaemonEndpoint !Port
                api.core.v1.DownwardAPIVolumeFile *mode !path
                api.core.v1.DownwardAPIVolumeSource *defaultMode
                api.core.v1.EndpointAddress !ip *nodeName
                api.core.v1.EndpointPort *appProtocol !port
                api.core.v1.EndpointsList !items
                api.core.v1.EnvVar !name
                api.core.v1.EphemeralContainerCommon !name *restartPolicy
                api.core.v1.Event !reportingComponent !reportingInstance
                api.core.v1.EventList !items
                api.core.v1.FCVolumeSource *lun
                api.core.v1.FlexPersistentVolumeSource !driver
                api.core.v1.FlexVolumeSource !driver
                api.core.v1.GCEPersistentDiskVolumeSource !pdName
                api.core.v1.GRPCAction !port *service
                api.core.v1.GitRepoVolumeSource !repository
                api.core.v1.GlusterfsPersistentVolumeSource !endpoints *endpointsNamespace !path
                api.core.v1.GlusterfsVolumeSource !endpoints !path
                api.core.v1.HTTPHeader !name !value
                api.core.v1.HostAlias !ip
                api.core.v1.HostIP !ip
                api.core.v1.HostPathVolumeSource !path *type
                api.core.v1.ISCSIPersistentVolumeSource *initiatorName !iqn !lun !targetPortal
                api.core.v1.ISCSIVolumeSource *initiatorName !iqn !lun !targetPortal
                api.core.v1.KeyToPath !key *mode !path
                api.core.v1.LimitRangeItem !type
                api.core.v1.LimitRangeList !items
                api.core.v1.LimitRangeSpec !limits
                api.core.v1.LoadBalancerIngress *ipMode
                api.core.v1.LocalVolumeSource *fsType !path
                api.core.v1.ModifyVolumeStatus !status
                api.core.v1.NFSVolumeSource !path !server
                api.core.v1.NamespaceCondition !status !type
                api.core.v1.NamespaceList !items
                api.core.v1.NodeAddress !address !type
                api.core.v1.NodeCondition !status !type
                api.core.v1.NodeList !items
                api.core.v1.NodeRuntimeHandler !name
                api.core.v1.NodeRuntimeHandlerFeatures *recursiveReadOnlyMounts
                api.core.v1.NodeSelector !nodeSelectorTerms
                api.core.v1.NodeSelectorRequirement !key !operator
                api.core.v1.NodeSystemInfo !architecture !bootID !containerRuntimeVersion !kernelVersion !kubeProxyVersion !kubeletVersion !machineID !operatingSystem !osImage !systemUUID
                api.core.v1.ObjectFieldSelector !fieldPath
                api.core.v1.PersistentVolumeClaimCondition !status !type
                api.core.v1.PersistentVolumeClaimList !items
                api.core.v1.PersistentVolumeClaimSpec *storageClassName *volumeAttributesClassName *volumeMode
                api.core.v1.PersistentVolumeClaimStatus *currentVolumeAttributesClassName
                api.core.v1.PersistentVolumeClaimVolumeSource !claimName
                api.core.v1.PersistentVolumeList !items
                api.core.v1.PersistentVolumeSpec *volumeAttributesClassName *volumeMode
                api.core.v1.PhotonPersistentDiskVolumeSource !pdID
                api.core.v1.PodAffinityTerm !topologyKey
                api.core.v1.PodCondition !status !type
                api.core.v1.PodDNSConfigOption *value
                api.core.v1.PodExecOptions !command
                api.core.v1.PodIP !ip
                api.core.v1.PodList !items
                api.core.v1.PodLogOptions *limitBytes *sinceSeconds *tailLines
                api.core.v1.PodOS !name
                api.core.v1.PodReadinessGate !conditionType
                api.core.v1.PodResourceClaim !name
                api.core.v1.PodResourceClaimStatus !name *resourceClaimName
                api.core.v1.PodSchedulingGate !name
                api.core.v1.PodSecurityContext *fsGroup *fsGroupChangePolicy *runAsGroup *runAsNonRoot *runAsUser
                api.core.v1.PodSpec *activeDeadlineSeconds *automountServiceAccountToken !containers *enableServiceLinks *hostUsers *preemptionPolicy *priority *runtimeClassName *setHostnameAsFQDN *shareProcessNamespace *terminationGracePeriodSeconds
                api.core.v1.PodTemplateList !items
                api.core.v1.PortStatus *error !port !protocol
                api.core.v1.PortworxVolumeSource !volumeID
                api.core.v1.Preconditions *uid
                api.core.v1.PreferredSchedulingTerm !weight
                api.core.v1.Probe *terminationGracePeriodSeconds
                api.core.v1.ProjectedVolumeSource *defaultMode !sources
                api.core.v1.QuobyteVolumeSource !registry !volume
                api.core.v1.RBDPersistentVolumeSource !image !monitors
                api.core.v1.RBDVolumeSource !image !monitors
                api.core.v1.RangeAllocation !data !range
                api.core.v1.ReplicationControllerCondition !status !type
                api.core.v1.ReplicationControllerList !items
                api.core.v1.ReplicationControllerSpec *replicas
                api.core.v1.ReplicationControllerStatus !replicas
                api.core.v1.ResourceClaim !name
                api.core.v1.ResourceFieldSelector !resource
                api.core.v1.ResourceQuotaList !items
                api.core.v1.ScaleIOPersistentVolumeSource !gateway !system
                api.core.v1.ScaleIOVolumeSource !gateway !system
                api.core.v1.ScopedResourceSelectorRequirement !operator !scopeName
                api.core.v1.SeccompProfile *localhostProfile !type
                api.core.v1.Secret *immutable
                api.core.v1.SecretEnvSource *optional
                api.core.v1.SecretKeySelector !key *optional
                api.core.v1.SecretList !items
                api.core.v1.SecretProjection *optional
                api.core.v1.SecretVolumeSource *defaultMode *optional
                api.core.v1.SecurityContext *allowPrivilegeEscalation *privileged *procMount *readOnlyRootFilesystem *runAsGroup *runAsNonRoot *runAsUser
                api.core.v1.ServiceAccount *automountServiceAccountToken
                api.core.v1.ServiceAccountList !items
                api.core.v1.ServiceAccountTokenProjection *expirationSeconds !path
                api.core.v1.ServiceList !items
                api.core.v1.ServicePort *appProtocol !port
                api.core.v1.ServiceSpec *allocateLoadBalancerNodePorts *internalTrafficPolicy *ipFamilyPolicy *loadBalancerClass *trafficDistribution
                api.core.v1.SleepAction !seconds
                api.core.v1.Sysctl !name !value
                api.core.v1.Taint !effect !key
                api.core.v1.Toleration *tolerationSeconds
                api.core.v1.TopologySelectorLabelRequirement !key !values
                api.core.v1.TopologySpreadConstraint !maxSkew *minDomains *nodeAffinityPolicy *nodeTaintsPolicy !topologyKey !whenUnsatisfiable
                api.core.v1.TypedLocalObjectReference *apiGroup !kind !name
                api.core.v1.TypedObjectReference *apiGroup !kind !name *namespace
                api.core.v1.Volume !name
                api.core.v1.VolumeDevice !devicePath !name
                api.core.v1.VolumeMount !mountPath *mountPropagation !name *recursiveReadOnly
                api.core.v1.VolumeMountStatus !mountPath !name *recursiveReadOnly
                api.core.v1.VsphereVirtualDiskVolumeSource !volumePath
                api.core.v1.WeightedPodAffinityTerm !weight
                api.core.v1.WindowsSecurityContextOptions *gmsaCredentialSpec *gmsaCredentialSpecName *hostProcess *runAsUserName
                api.extensions.v1beta1.DaemonSetCondition !status !type
                api.extensions.v1beta1.DaemonSetList !items
                api.extensions.v1beta1.DaemonSetSpec *revisionHistoryLimit
                api.extensions.v1beta1.DaemonSetStatus *collisionCount !currentNumberScheduled !desiredNumberScheduled !numberMisscheduled !numberReady
                api.extensions.v1beta1.DeploymentCondition !status !type
                api.extensions.v1beta1.DeploymentList !items
                api.extensions.v1beta1.DeploymentRollback !name
                api.extensions.v1beta1.DeploymentSpec *progressDeadlineSeconds *replicas *revisionHistoryLimit
                api.extensions.v1beta1.DeploymentStatus *collisionCount
                api.extensions.v1beta1.HTTPIngressPath *pathType
                api.extensions.v1beta1.HTTPIngressRuleValue !paths
                api.extensions.v1beta1.IPBlock !cidr
                api.extensions.v1beta1.IngressList !items
                api.extensions.v1beta1.IngressPortStatus *error !port !protocol
                api.extensions.v1beta1.IngressSpec *ingressClassName
                api.extensions.v1beta1.NetworkPolicyList !items
                api.extensions.v1beta1.NetworkPolicyPort *endPort *protocol
                api.extensions.v1beta1.ReplicaSetCondition !status !type
                api.extensions.v1beta1.ReplicaSetList !items
                api.extensions.v1beta1.ReplicaSetSpec *replicas
                api.extensions.v1beta1.ReplicaSetStatus !replicas
                api.extensions.v1beta1.ScaleStatus !replicas
                api.imagepolicy.v1alpha1.ImageReviewStatus !allowed
                api.networking.v1.HTTPIngressPath *pathType
                api.networking.v1.HTTPIngressRuleValue !paths
                api.networking.v1.IPBlock !cidr
                api.networking.v1.IngressClassList !items
                api.networking.v1.IngressClassParametersReference *aPIGroup !kind !name *namespace *scope
                api.networking.v1.IngressList !items
                api.networking.v1.IngressPortStatus *error !port !protocol
                api.networking.v1.IngressServiceBackend !name
                api.networking.v1.IngressSpec *ingressClassName
                api.networking.v1.NetworkPolicyList !items
                api.networking.v1.NetworkPolicyPort *endPort *protocol
                api.policy.v1.PodDisruptionBudgetList !items
                api.policy.v1.PodDisruptionBudgetSpec *unhealthyPodEvictionPolicy
                api.policy.v1.PodDisruptionBudgetStatus !currentHealthy !desiredHealthy !disruptionsAllowed !expectedPods
                api.policy.v1beta1.PodDisruptionBudgetList !items
                api.policy.v1beta1.PodDisruptionBudgetSpec *unhealthyPodEvictionPolicy
                api.policy.v1beta1.PodDisruptionBudgetStatus !currentHealthy !desiredHealthy !disruptionsAllowed !expectedPods
                api.rbac.v1.ClusterRole !rules
                api.rbac.v1.ClusterRoleBindingList !items
                api.rbac.v1.ClusterRoleList !items
                api.rbac.v1.PolicyRule !verbs
                api.rbac.v1.Role !rules
                api.rbac.v1.RoleBindingList !items
                api.rbac.v1.RoleList !items
                api.rbac.v1.RoleRef !apiGroup !kind !name
                api.rbac.v1.Subject !kind !name
                api.rbac.v1alpha1.ClusterRole !rules
                api.rbac.v1alpha1.ClusterRoleBindingList !items
                api.rbac.v1alpha1.ClusterRoleList !items
                api.rbac.v1alpha1.PolicyRule !verbs
                api.rbac.v1alpha1.Role !rules
                api.rbac.v1alpha1.RoleBindingList !items
                api.rbac.v1alpha1.RoleList !items
                api.rbac.v1alpha1.RoleRef !apiGroup !kind !name
                api.rbac.v1alpha1.Subject !kind !name
                api.rbac.v1beta1.ClusterRole !rules
                api.rbac.v1beta1.ClusterRoleBindingList !items
                api.rbac.v1beta1.ClusterRoleList !items
                api.rbac.v1beta1.PolicyRule !verbs
                api.rbac.v1beta1.Role !rules
                api.rbac.v1beta1.RoleBindingList !items
                api.rbac.v1beta1.RoleList !items
                api.rbac.v1beta1.RoleRef !apiGroup !kind !name
                api.rbac.v1beta1.Subject !kind !name
                api.scheduling.v1.PriorityClass *preemptionPolicy !value
                api.scheduling.v1.PriorityClassList !items
                api.storage.v1.CSIDriverList !items
                api.storage.v1.CSIDriverSpec *attachRequired *fsGroupPolicy *podInfoOnMount *requiresRepublish *seLinuxMount *storageCapacity
                api.storage.v1.CSINodeDriver !name !nodeID !topologyKeys
                api.storage.v1.CSINodeList !items
                api.storage.v1.CSINodeSpec !drivers
                api.storage.v1.CSIStorageCapacity !storageClassName
                api.storage.v1.CSIStorageCapacityList !items
                api.storage.v1.StorageClass *allowVolumeExpansion !provisioner *reclaimPolicy *volumeBindingMode
                api.storage.v1.StorageClassList !items
                api.storage.v1.TokenRequest !audience *expirationSeconds
                api.storage.v1.VolumeAttachmentList !items
                api.storage.v1.VolumeAttachmentSource *persistentVolumeName
                api.storage.v1.VolumeAttachmentSpec !attacher !nodeName
                api.storage.v1.VolumeAttachmentStatus !attached
                api.storage.v1.VolumeNodeResources *count
                api.storage.v1beta1.CSIDriverList !items
                api.storage.v1beta1.CSIDriverSpec *attachRequired *fsGroupPolicy *podInfoOnMount *requiresRepublish *seLinuxMount *storageCapacity
                api.storage.v1beta1.CSINodeDriver !name !nodeID !topologyKeys
                api.storage.v1beta1.CSINodeList !items
                api.storage.v1beta1.CSINodeSpec !drivers
                api.storage.v1beta1.CSIStorageCapacity !storageClassName
                api.storage.v1beta1.CSIStorageCapacityList !items
                api.storage.v1beta1.StorageClass *allowVolumeExpansion !provisioner *reclaimPolicy *volumeBindingMode
                api.storage.v1beta1.StorageClassList !items
                api.storage.v1beta1.TokenRequest !audience *expirationSeconds
                api.storage.v1beta1.VolumeAttachmentList !items
                api.storage.v1beta1.VolumeAttachmentSource *persistentVolumeName
                api.storage.v1beta1.VolumeAttachmentSpec !attacher !nodeName
                api.storage.v1beta1.VolumeAttachmentStatus !attached
                api.storage.v1beta1.VolumeNodeResources *count
                apimachinery.pkg.apis.meta.v1.APIGroup !name !versions
                apimachinery.pkg.apis.meta.v1.APIGroupList !groups
                apimachinery.pkg.apis.meta.v1.APIResource !kind !name !namespaced !singularName
                apimachinery.pkg.apis.meta.v1.APIResourceList !groupVersion !resources
                apimachinery.pkg.apis.meta.v1.APIVersions !serverAddressByClientCIDRs !versions
                apimachinery.pkg.apis.meta.v1.ApplyOptions !fieldManager !force
                apimachinery.pkg.apis.meta.v1.Condition !message !reason !status !type
                apimachinery.pkg.apis.meta.v1.DeleteOptions *gracePeriodSeconds *orphanDependents *propagationPolicy
                apimachinery.pkg.apis.meta.v1.GroupKind !group !kind
                apimachinery.pkg.apis.meta.v1.GroupResource !group !resource
                apimachinery.pkg.apis.meta.v1.GroupVersion !group !version
                apimachinery.pkg.apis.meta.v1.GroupVersionForDiscovery !groupVersion !version
                apimachinery.pkg.apis.meta.v1.GroupVersionKind !group !kind !version
                apimachinery.pkg.apis.meta.v1.GroupVersionResource !group !resource !version
                apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement !key !operator
                apimachinery.pkg.apis.meta.v1.List !items
                apimachinery.pkg.apis.meta.v1.ListMeta *remainingItemCount
                apimachinery.pkg.apis.meta.v1.ListOptions *sendInitialEvents *timeoutSeconds
                apimachinery.pkg.apis.meta.v1.ObjectMeta *deletionGracePeriodSeconds
                apimachinery.pkg.apis.meta.v1.OwnerReference !apiVersion *blockOwnerDeletion *controller !kind !name !uid
                apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList !items
                apimachinery.pkg.apis.meta.v1.PatchOptions *force
                apimachinery.pkg.apis.meta.v1.Preconditions *resourceVersion *uid
                apimachinery.pkg.apis.meta.v1.RootPaths !paths
                apimachinery.pkg.apis.meta.v1.ServerAddressByClientCIDR !clientCIDR !serverAddress
                apimachinery.pkg.apis.meta.v1.WatchEvent !type
                """;
    }
}
