package io.k3j.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A fish completion script for a picocli command tree (picocli writes bash/zsh scripts only). Each completion is
 * guarded by {@code __NAME_is PATH}: the subcommand path read off the words typed so far, options skipped, so
 * {@code cluster create} and {@code node create} complete their own options.
 */
final class FishCompletion {
    private FishCompletion() {
    }

    static String script(String name, CommandLine root) {
        List<String> paths = new ArrayList<>();
        collectPaths(root, "", paths);
        StringBuilder b = new StringBuilder();
        b.append("# fish completion for ").append(name).append(": ").append(name).append(" completion fish | source\n");
        b.append("set -g __").append(name).append("_paths");
        for (String p : paths) b.append(' ').append(quote(p));
        b.append("\n\n");
        b.append("function __").append(name).append("_is\n");
        b.append("    set -l words (commandline -opc)\n");
        b.append("    set -e words[1]\n");
        b.append("    set -l path ''\n");
        b.append("    for w in $words\n");
        b.append("        string match -q -- '-*' $w; and continue\n");
        b.append("        set -l next (string trim -- \"$path $w\")\n");
        b.append("        contains -- $next $__").append(name).append("_paths; and set path $next\n");
        b.append("    end\n");
        b.append("    test \"$path\" = \"$argv\"\n");
        b.append("end\n\n");
        b.append("complete -c ").append(name).append(" -f\n");
        commands(name, root, "", b);
        return b.toString();
    }

    private static void collectPaths(CommandLine cl, String path, List<String> out) {
        for (var e : cl.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            if (sub.getCommandSpec().usageMessage().hidden()) continue;
            String p = path.isEmpty() ? e.getKey() : path + " " + e.getKey();
            out.add(p); // aliases too: `k3j clusters ls` is a path as much as `k3j cluster list`
            collectPaths(sub, p, out);
        }
    }

    private static void commands(String name, CommandLine cl, String path, StringBuilder b) {
        String guard = " -n " + quote("__" + name + "_is " + path);
        for (var e : cl.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            CommandSpec spec = sub.getCommandSpec();
            if (spec.usageMessage().hidden() || !e.getKey().equals(sub.getCommandName())) continue; // aliases: not offered
            b.append("complete -c ").append(name).append(guard).append(" -a ").append(quote(e.getKey()))
                    .append(" -d ").append(quote(firstLine(spec.usageMessage().description()))).append('\n');
        }
        for (OptionSpec o : cl.getCommandSpec().options()) {
            if (o.hidden()) continue;
            b.append("complete -c ").append(name).append(guard);
            for (String n : o.names()) {
                if (n.startsWith("--")) b.append(" -l ").append(quote(n.substring(2)));
                else if (n.startsWith("-") && n.length() == 2) b.append(" -s ").append(quote(n.substring(1)));
            }
            if (o.arity().max() > 0 && !o.typeInfo().isBoolean()) b.append(" -r");
            b.append(" -d ").append(quote(firstLine(o.description()))).append('\n');
        }
        for (var e : cl.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            if (sub.getCommandSpec().usageMessage().hidden() || !e.getKey().equals(sub.getCommandName())) continue;
            commands(name, sub, path.isEmpty() ? e.getKey() : path + " " + e.getKey(), b);
        }
    }

    private static String firstLine(String[] description) {
        if (description == null || description.length == 0) return "";
        String d = description[0].replaceAll("\\$\\{[^}]*}", "").strip();
        int dot = d.indexOf(". ");
        return dot > 0 ? d.substring(0, dot) : d;
    }

    /** A fish single-quoted string: only \ and ' are special inside. */
    static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
