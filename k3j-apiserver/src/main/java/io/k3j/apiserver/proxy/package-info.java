/**
 * The API server's connections to kubelets and pods: {@link io.k3j.apiserver.proxy.KubeletProxy} serves
 * pods/log, pods/exec, pods/attach, pods/portforward, pods/proxy and nodes/proxy, streaming answers back and
 * splicing upgraded (SPDY, WebSocket) connections byte for byte.
 */
package io.k3j.apiserver.proxy;
