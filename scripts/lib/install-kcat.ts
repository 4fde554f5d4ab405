import * as fs from "node:fs";
import * as path from "node:path";
import { run, step } from "./project";

/** The full path of an executable on PATH, or undefined. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** apt-get as root, or through sudo without a password prompt (-n fails instead of asking). */
function aptGet(args: string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (process.getuid?.() === 0) return run("apt-get", args, { env });
  return run("sudo", ["-n", "apt-get", ...args], { env });
}

/**
 * Installs Debian's kcat, the librdkafka client the interop tests use as an
 * independent Kafka peer. Only the tests need it, so a failure is reported, not fatal:
 * the demo runs without it.
 */
export async function installKcat(): Promise<void> {
  if (onPath("kcat")) {
    step("kcat: present");
    return;
  }
  if (!onPath("apt-get")) {
    step("kcat: not installed and no apt-get here; install kcat by hand, or the kcat interop tests fail");
    return;
  }
  step("kcat: installing the Debian package");
  try {
    await aptGet(["install", "-y", "-q", "kcat"]).catch(async () => {
      // a fresh machine may not have the package lists yet
      await aptGet(["update", "-q"]);
      await aptGet(["install", "-y", "-q", "kcat"]);
    });
  } catch (error) {
    const who = process.getuid?.() === 0 ? "" : " (not root, and sudo -n was refused)";
    step(`kcat: could not be installed${who}: ${(error as Error).message}; run \`apt-get install kcat\` as root, or the kcat interop tests fail`);
  }
}
