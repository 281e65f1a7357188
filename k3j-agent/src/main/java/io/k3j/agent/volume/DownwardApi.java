package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Quantity;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Values of downward-API selectors, as pkg/api/v1/resource and pkg/fieldpath compute them: pod metadata fields and a
 * container's resources (limits defaulted to the node's allocatable when unset).
 */
final class DownwardApi {

    private static final Pattern SUBSCRIPT = Pattern.compile("^metadata\\.(labels|annotations)\\['(.*)'\\]$");

    private DownwardApi() { }

    /**
     * {@code metadata.name|namespace|uid|labels|annotations|labels['k']|annotations['k']} (fieldpath's
     * ExtractFieldPathAsString); labels and annotations as {@code key="value"} lines, sorted.
     *
     * @throws IllegalArgumentException {@code unsupported fieldPath: x} for anything else
     */
    static String metadataField(ObjectNode pod, String fieldPath) {
        JsonNode meta = pod.path("metadata");
        switch (fieldPath) {
            case "metadata.name": return meta.path("name").asText("");
            case "metadata.namespace": return meta.path("namespace").asText("");
            case "metadata.uid": return meta.path("uid").asText("");
            case "metadata.labels": return formatMap(meta.path("labels"));
            case "metadata.annotations": return formatMap(meta.path("annotations"));
            default:
        }
        Matcher m = SUBSCRIPT.matcher(fieldPath);
        if (m.matches()) return meta.path(m.group(1)).path(m.group(2)).asText("");
        throw new IllegalArgumentException("unsupported fieldPath: " + fieldPath);
    }

    /** fieldpath.FormatMap: {@code key="value"} per line, keys sorted, values quoted as Go's %q does. */
    static String formatMap(JsonNode map) {
        TreeMap<String, String> sorted = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            sorted.put(e.getKey(), e.getValue().asText(""));
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(e.getKey()).append('=').append(goQuote(e.getValue()));
        }
        return sb.toString();
    }

    /** Go's strconv.Quote for the characters labels and annotations can hold. */
    static String goQuote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        s.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case 7 -> sb.append("\\a");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case 11 -> sb.append("\\v");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", c));
                    } else if (Character.isISOControl(c) || !Character.isDefined(c)) {
                        sb.append(c > 0xffff ? String.format("\\U%08x", c) : String.format("\\u%04x", c));
                    } else {
                        sb.appendCodePoint(c);
                    }
                }
            }
        });
        return sb.append('"').toString();
    }

    /**
     * A container's resource ({@code limits.cpu}, {@code requests.memory}, {@code limits.ephemeral-storage},
     * {@code requests.hugepages-2Mi} ...) divided by {@code divisor} and rounded up, as
     * ExtractContainerResourceValue does; a missing limit of cpu, memory or ephemeral-storage is the node's allocatable.
     *
     * @throws IllegalArgumentException {@code unsupported container resource : x}
     */
    static String containerResource(ObjectNode container, String resource, String divisorText, NodeFacts node) {
        Quantity divisor = divisorText == null || divisorText.isEmpty() ? Quantity.parse("1") : Quantity.parse(divisorText);
        if (divisor.signum() == 0) divisor = Quantity.parse("1");
        int dot = resource.indexOf('.');
        String kind = dot < 0 ? "" : resource.substring(0, dot);
        String name = dot < 0 ? "" : resource.substring(dot + 1);
        boolean standard = name.equals("cpu") || name.equals("memory") || name.equals("ephemeral-storage");
        if (!(kind.equals("limits") || kind.equals("requests")) || !(standard || name.startsWith("hugepages-"))) {
            throw new IllegalArgumentException("unsupported container resource : " + resource);
        }
        JsonNode text = container.path("resources").path(kind).get(name);
        Quantity value;
        if (text != null && text.isTextual()) {
            value = Quantity.parse(text.asText());
        } else if (kind.equals("limits") && standard && node.allocatable().containsKey(name)) {
            value = node.allocatable().get(name);
        } else {
            value = Quantity.parse("0");
        }
        if (name.equals("cpu")) {
            // MilliValue rounds up to whole millicores before the division.
            BigDecimal milli = value.value().movePointRight(3).setScale(0, RoundingMode.UP);
            BigDecimal divMilli = divisor.value().movePointRight(3).setScale(0, RoundingMode.UP);
            return milli.divide(divMilli, 0, RoundingMode.CEILING).toPlainString();
        }
        BigDecimal v = value.value().setScale(0, RoundingMode.UP);
        BigDecimal d = divisor.value().setScale(0, RoundingMode.UP);
        if (d.signum() == 0) d = BigDecimal.ONE;
        return v.divide(d, 0, RoundingMode.CEILING).toPlainString();
    }
}
