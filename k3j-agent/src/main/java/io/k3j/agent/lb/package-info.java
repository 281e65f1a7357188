/**
 * The agent's client-side load balancer for the API: a local TCP proxy ({@code 127.0.0.1:6444}, as k3s's agent has)
 * that the node's API clients use, spreading nothing but failing over: it learns every server from the
 * {@code kubernetes} Endpoints, probes them, sends new connections to a healthy one and saves its list so a restart
 * with the first server down still connects. See {@link io.k3j.agent.lb.ApiLoadBalancer}.
 */
package io.k3j.agent.lb;
