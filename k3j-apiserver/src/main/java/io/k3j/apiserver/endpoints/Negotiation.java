package io.k3j.apiserver.endpoints;

import io.k3j.api.ApiException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Parses Accept headers into what to answer: JSON, YAML, a Table, partial metadata, or aggregated discovery. */
final class Negotiation {
    enum Output { JSON, YAML, TABLE, PARTIAL_METADATA, DISCOVERY_V2, DISCOVERY_V2BETA1 }

    record MediaRange(String type, Map<String, String> params) {}

    private Negotiation() {}

    static List<MediaRange> parse(String accept) {
        List<MediaRange> out = new ArrayList<>();
        if (accept == null || accept.isBlank()) return out;
        for (String part : accept.split(",")) {
            String[] pieces = part.split(";");
            String type = pieces[0].trim().toLowerCase(Locale.ROOT);
            Map<String, String> params = new HashMap<>();
            for (int i = 1; i < pieces.length; i++) {
                int eq = pieces[i].indexOf('=');
                if (eq > 0) params.put(pieces[i].substring(0, eq).trim().toLowerCase(Locale.ROOT), pieces[i].substring(eq + 1).trim());
            }
            out.add(new MediaRange(type, params));
        }
        return out;
    }

    /**
     * What a resource read answers with, in the client's order of preference.
     *
     * @throws ApiException 406 when nothing acceptable can be produced (e.g. protobuf only)
     */
    static Output forObjects(String accept) {
        List<MediaRange> ranges = parse(accept);
        if (ranges.isEmpty()) return Output.JSON;
        for (MediaRange r : ranges) {
            boolean json = r.type.equals("application/json") || r.type.equals("*/*") || r.type.equals("application/*");
            String as = r.params.get("as");
            if (as != null) {
                if (!r.type.equals("application/json")) continue;
                String g = r.params.getOrDefault("g", "");
                String v = r.params.getOrDefault("v", "");
                if (!g.equals("meta.k8s.io") || !(v.equals("v1") || v.equals("v1beta1"))) continue;
                if (as.equals("Table")) return Output.TABLE;
                if (as.equals("PartialObjectMetadata") || as.equals("PartialObjectMetadataList")) return Output.PARTIAL_METADATA;
                continue;
            }
            if (json) return Output.JSON;
            if (r.type.equals("application/yaml")) return Output.YAML;
        }
        throw ApiException.notAcceptable("only the following media types are accepted: application/json, application/yaml");
    }

    /** Aggregated discovery when asked for (v2 or v2beta1), else the legacy documents. */
    static Output forDiscovery(String accept) {
        for (MediaRange r : parse(accept)) {
            if (r.type.equals("application/json") && "apidiscovery.k8s.io".equals(r.params.get("g"))
                    && "APIGroupDiscoveryList".equals(r.params.get("as"))) {
                if ("v2".equals(r.params.get("v"))) return Output.DISCOVERY_V2;
                if ("v2beta1".equals(r.params.get("v"))) return Output.DISCOVERY_V2BETA1;
            }
            if (r.type.equals("application/json") && !r.params.containsKey("as")) return Output.JSON;
            if (r.type.equals("*/*")) return Output.JSON;
        }
        return Output.JSON;
    }

    /** The media type of a request body, without parameters; null when absent. */
    static String contentType(String header) {
        if (header == null || header.isBlank()) return null;
        int semi = header.indexOf(';');
        return (semi < 0 ? header : header.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }
}
