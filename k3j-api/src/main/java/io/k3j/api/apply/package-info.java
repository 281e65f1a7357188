/**
 * Server-side apply and {@code metadata.managedFields}, after kube-apiserver's field manager
 * (k8s.io/apimachinery/pkg/util/managedfields) and sigs.k8s.io/structured-merge-diff; see KEP-555.
 *
 * <p>Entry points: {@link io.k3j.api.apply.ManagedFields#trackUpdate} on every create, update and non-apply patch;
 * {@link io.k3j.api.apply.ManagedFields#apply} for {@code application/apply-patch+yaml}. {@link
 * io.k3j.api.apply.FieldSet} is the FieldsV1 set type.
 *
 * <p>Merge shapes come from {@link io.k3j.api.patch.PatchSchema}: {@code x-kubernetes-list-type} (atomic, set,
 * map with {@code x-kubernetes-list-map-keys}); without it a {@code merge} patch strategy makes a list a list-map
 * keyed by the patch merge key (or a set), as kube-openapi's schemaconv does; otherwise lists are atomic.
 * {@code x-kubernetes-map-type: atomic} objects are owned whole. Objects of kind OBJECT are structs (their fields
 * are not owned themselves, only what is inside), MAP and unknown objects are granular maps whose entries are
 * owned. Two facts PatchSchema does not carry (list-map key defaults such as a port's {@code protocol: TCP}, and
 * which fields Go's typed objects always carry) come from the optional {@link io.k3j.api.apply.ApplySchema}.
 *
 * <p>Client-side apply upgrade (what kube-apiserver does, and this package with it): when the manager is exactly
 * {@code kubectl} (kubectl apply --server-side's default) and apply conflicts, the conflicts on fields that the
 * live object's {@code kubectl.kubernetes.io/last-applied-configuration} lists with their current value are
 * forced (the client-side applier's ownership passes to kubectl); any other conflict still fails. After such an
 * apply the annotation, if present, is rewritten to the applied configuration (dropped if annotations would exceed
 * 256 KiB). Other managers get neither.
 */
package io.k3j.api.apply;
