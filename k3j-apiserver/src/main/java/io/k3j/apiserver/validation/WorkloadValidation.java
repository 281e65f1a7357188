package io.k3j.apiserver.validation;

import static io.k3j.apiserver.validation.Meta.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** apps and batch kinds (pkg/apis/apps/validation, pkg/apis/batch/validation). */
final class WorkloadValidation {
    private WorkloadValidation() {}

    /** %#v of a LabelSelector as field.Invalid prints it. */
    static Errs.GoText selectorValue(JsonNode selector) {
        JsonNode ml = selector == null ? null : selector.get("matchLabels");
        String labels = ml == null || ml.isNull() ? "map[string]string(nil)" : ml.isEmpty() ? "map[string]string{}" : Errs.go(ml);
        JsonNode me = selector == null ? null : selector.get("matchExpressions");
        String exprs = me == null || me.isNull() || me.isEmpty() ? "[]v1.LabelSelectorRequirement(nil)" : "[]v1.LabelSelectorRequirement" + me;
        return new Errs.GoText("v1.LabelSelector{MatchLabels:" + labels + ", MatchExpressions:" + exprs + "}");
    }

    /** %#v of template labels: a nil map prints as map[string]string(nil). */
    static Object labelsValue(JsonNode labels) {
        return labels == null || labels.isNull() ? new Errs.GoText("map[string]string(nil)") : labels;
    }

    static void nonNegative(Errs e, JsonNode obj, String field, String path) {
        JsonNode v = obj == null ? null : obj.get(field);
        if (v != null && v.isNumber() && v.asLong() < 0) e.invalid(path, v.asLong(), Meta.NEGATIVE);
    }

    /** Selector required, valid and non-empty (the message names the kind, "deployment" for ReplicaSets too). */
    private static void selector(Errs e, JsonNode spec, String what) {
        JsonNode selector = spec.get("selector");
        if (selector == null || selector.isNull()) {
            e.required("spec.selector", "");
        } else {
            Meta.labelSelector(e, selector, "spec.selector");
            if (Meta.selectorEmpty(selector)) e.invalid("spec.selector", selectorValue(selector), "empty selector is invalid for " + what);
        }
    }

    private static void templateForReplicas(Errs e, JsonNode spec, String owner) {
        JsonNode template = spec.get("template");
        if (template == null || template.isNull()) {
            e.required("spec.template", "");
            return;
        }
        JsonNode selector = spec.get("selector");
        JsonNode labels = template.path("metadata").get("labels");
        if (!Meta.selectorEmpty(selector) && !Meta.selectorMatches(selector, labels)) {
            e.invalid("spec.template.metadata.labels", labelsValue(labels), "`selector` does not match template `labels`");
        }
        CoreValidation.podTemplate(e, template, "spec.template");
        String restart = text(template.path("spec"), "restartPolicy");
        if (!restart.equals("Always")) e.notSupported("spec.template.spec.restartPolicy", restart, List.of("Always"));
        JsonNode deadline = template.path("spec").get("activeDeadlineSeconds");
        if (deadline != null && deadline.isNumber()) {
            e.invalid("spec.template.spec.activeDeadlineSeconds", deadline.asLong(), "activeDeadlineSeconds in " + owner + " is not Supported");
        }
    }

    static void deployment(Errs e, JsonNode d) {
        JsonNode spec = d.path("spec");
        nonNegative(e, spec, "replicas", "spec.replicas");
        selector(e, spec, "deployment");
        templateForReplicas(e, spec, "ReplicaSet");
        JsonNode strategy = spec.path("strategy");
        String type = text(strategy, "type");
        switch (type) {
            case "Recreate" -> {
                if (strategy.hasNonNull("rollingUpdate")) e.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
            }
            case "RollingUpdate" -> {
                JsonNode ru = strategy.get("rollingUpdate");
                if (ru == null || ru.isNull()) e.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil");
                else rollingUpdate(e, ru, "spec.strategy.rollingUpdate");
            }
            default -> e.notSupported("spec.strategy", new Errs.GoText("apps.DeploymentStrategy{Type:\"" + type + "\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}"),
                    List.of("Recreate", "RollingUpdate"));
        }
        nonNegative(e, spec, "minReadySeconds", "spec.minReadySeconds");
        nonNegative(e, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit");
        JsonNode pds = spec.get("progressDeadlineSeconds");
        if (pds != null && pds.isNumber()) {
            nonNegative(e, spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds");
            if (pds.asLong() <= spec.path("minReadySeconds").asLong(0)) {
                e.invalid("spec.progressDeadlineSeconds", pds.asLong(), "must be greater than minReadySeconds");
            }
        }
    }

    static Errs.GoText intOrString(JsonNode v) {
        if (v != null && v.isTextual()) return new Errs.GoText("intstr.IntOrString{Type:1, IntVal:0, StrVal:" + Errs.quote(v.asText()) + "}");
        long n = v == null ? 0 : v.asLong(0);
        return new Errs.GoText("intstr.IntOrString{Type:0, IntVal:" + n + ", StrVal:\"\"}");
    }

    private static long intOrPercentValue(JsonNode v) {
        if (v == null || v.isNull()) return 0;
        if (v.isTextual()) {
            String s = v.asText();
            try {
                return Long.parseLong(s.endsWith("%") ? s.substring(0, s.length() - 1) : s);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return v.asLong();
    }

    private static void positiveIntOrPercent(Errs e, JsonNode v, String p) {
        if (v == null || v.isNull()) return;
        if (v.isTextual()) {
            for (String m : Names.isValidPercent(v.asText())) e.invalid(p, intOrString(v), m);
        } else if (v.asLong() < 0) {
            e.invalid(p, v.asLong(), Meta.NEGATIVE);
        }
    }

    private static void rollingUpdate(Errs e, JsonNode ru, String p) {
        JsonNode maxUnavailable = ru.get("maxUnavailable");
        JsonNode maxSurge = ru.get("maxSurge");
        positiveIntOrPercent(e, maxUnavailable, p + ".maxUnavailable");
        positiveIntOrPercent(e, maxSurge, p + ".maxSurge");
        if (intOrPercentValue(maxUnavailable) == 0 && intOrPercentValue(maxSurge) == 0) {
            e.invalid(p + ".maxUnavailable", intOrString(maxUnavailable), "may not be 0 when `maxSurge` is 0");
        }
        if (maxUnavailable != null && maxUnavailable.isTextual() && maxUnavailable.asText().endsWith("%")
                && intOrPercentValue(maxUnavailable) > 100) {
            e.invalid(p + ".maxUnavailable", intOrString(maxUnavailable), "must not be greater than 100%");
        }
    }

    static void replicaSet(Errs e, JsonNode rs) {
        JsonNode spec = rs.path("spec");
        nonNegative(e, spec, "replicas", "spec.replicas");
        nonNegative(e, spec, "minReadySeconds", "spec.minReadySeconds");
        selector(e, spec, "deployment");
        templateForReplicas(e, spec, "ReplicaSet");
    }

    static void daemonSet(Errs e, JsonNode ds) {
        JsonNode spec = ds.path("spec");
        JsonNode selector = spec.get("selector");
        if (selector == null || selector.isNull()) e.required("spec.selector", "");
        else Meta.labelSelector(e, selector, "spec.selector");
        JsonNode template = spec.path("template");
        JsonNode labels = template.path("metadata").get("labels");
        if (selector != null && !Meta.selectorEmpty(selector) && !Meta.selectorMatches(selector, labels)) {
            e.invalid("spec.template.metadata.labels", labelsValue(labels), "`selector` does not match template `labels`");
        }
        if (selector != null && !selector.isNull() && Meta.selectorEmpty(selector)) {
            e.invalid("spec.selector", selectorValue(selector), "empty selector is invalid for daemonset");
        }
        CoreValidation.podTemplate(e, template, "spec.template");
        String restart = text(template.path("spec"), "restartPolicy");
        if (!restart.equals("Always")) e.notSupported("spec.template.spec.restartPolicy", restart, List.of("Always"));
        JsonNode deadline = template.path("spec").get("activeDeadlineSeconds");
        if (deadline != null && deadline.isNumber()) {
            e.invalid("spec.template.spec.activeDeadlineSeconds", deadline.asLong(), "activeDeadlineSeconds in DaemonSet is not Supported");
        }
        nonNegative(e, spec, "minReadySeconds", "spec.minReadySeconds");
        JsonNode strategy = spec.path("updateStrategy");
        String type = text(strategy, "type");
        switch (type) {
            case "OnDelete" -> { }
            case "RollingUpdate" -> {
                JsonNode ru = strategy.get("rollingUpdate");
                if (ru == null || ru.isNull()) e.required("spec.updateStrategy.rollingUpdate", "");
                else rollingUpdate(e, ru, "spec.updateStrategy.rollingUpdate");
            }
            case "" -> e.required("spec.updateStrategy.type", "");
            default -> e.notSupported("spec.updateStrategy.type", type, List.of("OnDelete", "RollingUpdate"));
        }
        nonNegative(e, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit");
    }

    static void statefulSet(Errs e, JsonNode ss) {
        JsonNode spec = ss.path("spec");
        String pmp = text(spec, "podManagementPolicy");
        if (pmp.isEmpty()) e.required("spec.podManagementPolicy", "");
        else if (!pmp.equals("OrderedReady") && !pmp.equals("Parallel")) {
            e.invalid("spec.podManagementPolicy", pmp, "must be 'OrderedReady' or 'Parallel'");
        }
        JsonNode strategy = spec.path("updateStrategy");
        String type = text(strategy, "type");
        switch (type) {
            case "" -> e.required("spec.updateStrategy", "");
            case "OnDelete" -> {
                if (strategy.hasNonNull("rollingUpdate")) {
                    e.invalid("spec.updateStrategy.rollingUpdate", new Errs.GoText(strategy.get("rollingUpdate").toString()),
                            "only allowed for updateStrategy 'RollingUpdate'");
                }
            }
            case "RollingUpdate" -> nonNegative(e, strategy.path("rollingUpdate"), "partition", "spec.updateStrategy.rollingUpdate.partition");
            default -> e.invalid("spec.updateStrategy", new Errs.GoText(strategy.toString()), "must be 'RollingUpdate' or 'OnDelete'");
        }
        JsonNode retention = spec.get("persistentVolumeClaimRetentionPolicy");
        if (retention != null && retention.isObject()) {
            for (String f : new String[] {"whenDeleted", "whenScaled"}) {
                String v = text(retention, f);
                if (!v.equals("Retain") && !v.equals("Delete")) {
                    e.notSupported("spec.persistentVolumeClaimRetentionPolicy." + f, v, List.of("Retain", "Delete"));
                }
            }
        }
        nonNegative(e, spec, "replicas", "spec.replicas");
        JsonNode selector = spec.get("selector");
        if (selector == null || selector.isNull()) {
            e.required("spec.selector", "");
        } else {
            Meta.labelSelector(e, selector, "spec.selector");
            if (Meta.selectorEmpty(selector)) e.invalid("spec.selector", selectorValue(selector), "empty selector is not valid for statefulset.");
        }
        JsonNode template = spec.path("template");
        JsonNode labels = template.path("metadata").get("labels");
        if (!Meta.selectorEmpty(selector) && !Meta.selectorMatches(selector, labels)) {
            e.invalid("spec.template.metadata.labels", labelsValue(labels), "`selector` does not match template `labels`");
        }
        JsonNode meta = template.get("metadata");
        Meta.labels(e, meta == null ? null : meta.get("labels"), "spec.template.labels");
        Meta.annotations(e, meta == null ? null : meta.get("annotations"), "spec.template.annotations");
        String restart = text(template.path("spec"), "restartPolicy");
        if (!restart.equals("Always")) e.notSupported("spec.template.spec.restartPolicy", restart, List.of("Always"));
        JsonNode deadline = template.path("spec").get("activeDeadlineSeconds");
        if (deadline != null && deadline.isNumber()) e.invalid("spec.template.spec.activeDeadlineSeconds", deadline.asLong(), "must not be specified");
        // The pod spec proper is validated too (containers, ports...), but volumes may come from claim templates.
        JsonNode podSpec = template.get("spec");
        if (podSpec != null && podSpec.isObject()) {
            var withClaims = (com.fasterxml.jackson.databind.node.ObjectNode) podSpec.deepCopy();
            var volumes = withClaims.get("volumes") instanceof com.fasterxml.jackson.databind.node.ArrayNode a ? a : withClaims.putArray("volumes");
            for (JsonNode claim : Meta.iter(spec.get("volumeClaimTemplates"))) {
                var v = volumes.addObject();
                v.put("name", text(claim.path("metadata"), "name"));
                v.putObject("persistentVolumeClaim").put("claimName", text(claim.path("metadata"), "name"));
            }
            PodValidation.podSpec(e, withClaims, "spec.template.spec");
        } else {
            e.required("spec.template.spec.containers", "");
        }
        nonNegative(e, spec, "minReadySeconds", "spec.minReadySeconds");
        int i = 0;
        for (JsonNode claim : Meta.iter(spec.get("volumeClaimTemplates"))) {
            String cp = "spec.volumeClaimTemplates[" + i++ + "]";
            CoreValidation.persistentVolumeClaimSpec(e, claim.get("spec"), cp + ".spec");
        }
    }

    static void controllerRevision(Errs e, JsonNode cr) {
        if (!cr.hasNonNull("data")) e.required("data", "data is mandatory");
        nonNegative(e, cr, "revision", "revision");
    }

    /** The JobSpec checks shared by Jobs and CronJob job templates. */
    private static void jobSpecCommon(Errs e, JsonNode spec, String p) {
        for (String f : new String[] {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"}) {
            nonNegative(e, spec, f, p + "." + f);
        }
        String mode = text(spec, "completionMode");
        if (!mode.isEmpty() && !mode.equals("NonIndexed") && !mode.equals("Indexed")) {
            e.notSupported(p + ".completionMode", mode, List.of("NonIndexed", "Indexed"));
        }
        if (mode.equals("Indexed") && !spec.hasNonNull("completions")) e.required(p + ".completions", "when completion mode is Indexed");
        String replacement = text(spec, "podReplacementPolicy");
        if (!replacement.isEmpty() && !replacement.equals("TerminatingOrFailed") && !replacement.equals("Failed")) {
            e.notSupported(p + ".podReplacementPolicy", replacement, List.of("Failed", "TerminatingOrFailed"));
        }
    }

    private static void jobTemplate(Errs e, JsonNode spec, String p) {
        JsonNode template = spec.path("template");
        CoreValidation.podTemplate(e, template, p + ".template");
        String restart = text(template.path("spec"), "restartPolicy");
        if (!restart.equals("OnFailure") && !restart.equals("Never")) {
            e.notSupported(p + ".template.spec.restartPolicy", restart, List.of("OnFailure", "Never"));
        }
    }

    static void job(Errs e, JsonNode job) {
        JsonNode spec = job.path("spec");
        boolean manual = spec.path("manualSelector").asBoolean(false);
        String uid = text(job.path("metadata"), "uid");
        String name = text(job.path("metadata"), "name");
        JsonNode labels = spec.path("template").path("metadata").get("labels");
        // validateGeneratedSelector: the uid-based labels must be what the strategy generated.
        if (!manual && !uid.isEmpty()) {
            hasLabel(e, labels, "controller-uid", uid);
            hasLabel(e, labels, "job-name", name);
            hasLabel(e, labels, "batch.kubernetes.io/controller-uid", uid);
            hasLabel(e, labels, "batch.kubernetes.io/job-name", name);
            JsonNode selector = spec.get("selector");
            boolean generated = selector != null && selector.path("matchLabels").size() == 1
                    && uid.equals(text(selector.path("matchLabels"), "batch.kubernetes.io/controller-uid"))
                    && selector.path("matchExpressions").size() == 0;
            if (!generated) e.invalid("spec.selector", selectorValue(selector), "`selector` not auto-generated");
        }
        jobSpecCommon(e, spec, "spec");
        JsonNode selector = spec.get("selector");
        if (selector == null || selector.isNull()) e.required("spec.selector", "");
        else Meta.labelSelector(e, selector, "spec.selector");
        if (selector != null && !selector.isNull() && !Meta.selectorMatches(selector, labels)) {
            e.invalid("spec.template.metadata.labels", labelsValue(labels), "`selector` does not match template `labels`");
        }
        jobTemplate(e, spec, "spec");
    }

    private static void hasLabel(Errs e, JsonNode labels, String key, String expected) {
        String path = "spec.template.metadata.labels[" + key + "]";
        JsonNode v = labels == null ? null : labels.get(key);
        if (v == null) e.required(path, "");
        else if (!v.asText().equals(expected)) e.invalid(path, v.asText(), "must be '" + expected + "'");
    }

    static void cronJob(Errs e, JsonNode cj) {
        String name = text(cj.path("metadata"), "name");
        // Job names get an 11-character suffix, so CronJob names are capped at 52.
        if (name.length() > 52) e.invalid("metadata.name", name, "must be no more than 52 characters");
        JsonNode spec = cj.path("spec");
        String schedule = text(spec, "schedule");
        if (schedule.isEmpty()) {
            e.required("spec.schedule", "");
        } else if (schedule.contains("TZ")) {
            e.invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
        } else {
            String err = Cron.check(schedule);
            if (err != null) e.invalid("spec.schedule", schedule, err);
        }
        nonNegative(e, spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds");
        PodValidation.oneOf(e, spec, "concurrencyPolicy", "spec.concurrencyPolicy", List.of("Allow", "Forbid", "Replace"));
        nonNegative(e, spec, "successfulJobsHistoryLimit", "spec.successfulJobsHistoryLimit");
        nonNegative(e, spec, "failedJobsHistoryLimit", "spec.failedJobsHistoryLimit");
        JsonNode jt = spec.path("jobTemplate");
        Meta.labels(e, jt.path("metadata").get("labels"), "spec.jobTemplate.metadata.labels");
        Meta.annotations(e, jt.path("metadata").get("annotations"), "spec.jobTemplate.metadata.annotations");
        JsonNode jspec = jt.path("spec");
        jobSpecCommon(e, jspec, "spec.jobTemplate.spec");
        jobTemplate(e, jspec, "spec.jobTemplate.spec");
        if (jspec.hasNonNull("selector")) {
            e.invalid("spec.jobTemplate.spec.selector", selectorValue(jspec.get("selector")), "`selector` will be auto-generated");
        }
        if (jspec.path("manualSelector").asBoolean(false)) {
            e.notSupported("spec.jobTemplate.spec.manualSelector", true, List.of("nil", "false"));
        }
    }
}
