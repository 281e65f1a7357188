package io.k3j.cli;

import picocli.CommandLine.Command;

/** {@code k3j version}. */
@Command(name = "version", description = "Print k3j's version.")
final class VersionCommand implements Runnable {
    @Override
    public void run() {
        System.out.println(Main.versionLine());
        System.out.println("java version " + Runtime.version());
    }
}
