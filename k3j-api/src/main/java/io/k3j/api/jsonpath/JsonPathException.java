package io.k3j.api.jsonpath;

/**
 * A JSONPath expression that does not parse, or that fails on a document (index out of bounds, comparing
 * incompatible types). Messages follow k8s.io/client-go/util/jsonpath. Where a client supplied the expression
 * (a CRD's additionalPrinterColumns), the caller turns this into the validation error it needs.
 */
public final class JsonPathException extends IllegalArgumentException {
    public JsonPathException(String message) {
        super(message);
    }
}
