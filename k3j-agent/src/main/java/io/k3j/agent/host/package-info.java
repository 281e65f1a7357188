/** The host machine: Debian packages ({@link io.k3j.agent.host.Packages}) and processes by PID ({@link io.k3j.agent.host.Processes}). */
package io.k3j.agent.host;
