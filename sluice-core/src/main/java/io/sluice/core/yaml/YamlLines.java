package io.sluice.core.yaml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Json;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A YAML document as JSON, remembering the line of every value, so that errors can say where
 * (flow files, definition tests):
 * paths are written {@code modules.input.arguments.path} and {@code routingtable[2]}.
 */
public final class YamlLines {
    private final JsonNode root;
    private final Map<String, Integer> lines;

    private YamlLines(JsonNode root, Map<String, Integer> lines) {
        this.root = root;
        this.lines = lines;
    }

    /** A tree without lines (a flow given inline in another document). */
    public static YamlLines of(JsonNode root) {
        return new YamlLines(root, Map.of());
    }

    /**
     * Parses YAML text.
     *
     * @param origin the file's name, for errors
     * @throws IllegalArgumentException naming the file and line of a syntax error
     */
    public static YamlLines parse(String text, String origin) {
        Node node;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            node = new Yaml(options).compose(new java.io.StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new IllegalArgumentException(
                    origin + (line > 0 ? ":" + line : "") + ": invalid YAML: " + e.getProblem());
        }
        Map<String, Integer> lines = new HashMap<>();
        JsonNode root = node == null ? Json.object() : convert(node, "", lines);
        return new YamlLines(root, lines);
    }

    public JsonNode root() {
        return root;
    }

    /** The line of the value at that path, or of the nearest enclosing one; 0 if unknown. */
    public int line(String path) {
        String p = path;
        while (true) {
            Integer l = lines.get(p);
            if (l != null) {
                return l;
            }
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            if (cut <= 0) {
                return lines.getOrDefault("", 0);
            }
            p = p.substring(0, cut);
        }
    }

    private static JsonNode convert(Node node, String path, Map<String, Integer> lines) {
        lines.put(path, node.getStartMark().getLine() + 1);
        if (node instanceof MappingNode m) {
            ObjectNode out = Json.object();
            for (NodeTuple t : m.getValue()) {
                String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : String.valueOf(t.getKeyNode());
                String child = path.isEmpty() ? key : path + "." + key;
                out.set(key, convert(t.getValueNode(), child, lines));
                lines.putIfAbsent(child, t.getKeyNode().getStartMark().getLine() + 1);
            }
            return out;
        }
        if (node instanceof SequenceNode s) {
            ArrayNode out = Json.nodes().arrayNode();
            int i = 0;
            for (Node item : s.getValue()) {
                out.add(convert(item, path + "[" + i++ + "]", lines));
            }
            return out;
        }
        ScalarNode scalar = (ScalarNode) node;
        String v = scalar.getValue();
        Tag tag = scalar.getTag();
        try {
            if (tag.equals(Tag.NULL)) {
                return Json.nodes().nullNode();
            }
            if (tag.equals(Tag.BOOL)) {
                return Json.nodes()
                        .booleanNode(
                                v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes") || v.equalsIgnoreCase("on"));
            }
            if (tag.equals(Tag.INT)) {
                BigInteger b = new BigInteger(v.replace("_", ""));
                return b.bitLength() < 64
                        ? Json.nodes().numberNode(b.longValue())
                        : Json.nodes().numberNode(b);
            }
            if (tag.equals(Tag.FLOAT)) {
                return Json.nodes().numberNode(Double.parseDouble(v.replace("_", "")));
            }
        } catch (NumberFormatException e) {
            return Json.nodes().textNode(v);
        }
        return Json.nodes().textNode(v);
    }
}
