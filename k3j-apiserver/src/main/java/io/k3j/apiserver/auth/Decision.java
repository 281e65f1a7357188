package io.k3j.apiserver.auth;

/** An authorizer's verdict, as kube-apiserver's {@code authorizer.Decision}. */
public enum Decision {
    /** The request may proceed; later authorizers are not asked. */
    ALLOW,
    /** The request is refused; later authorizers are not asked. */
    DENY,
    /** This authorizer has no rule for the request; the next one is asked, and if none allows it is refused. */
    NO_OPINION
}
