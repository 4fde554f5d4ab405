import * as fs from "node:fs";
import * as path from "node:path";
import { run } from "./project";

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

/** Why apt-get could not run, for the message that tells the user what to do instead. */
export function whyNotInstalled(error: Error): string {
  const who = process.getuid?.() === 0 ? "" : " (not root, and sudo -n was refused)";
  return `${who}: ${error.message}`;
}

/** Installs Debian packages; rejects when apt-get is missing or fails. */
export async function aptInstall(packages: string[]): Promise<void> {
  if (!onPath("apt-get")) throw new Error("no apt-get here");
  const install = (): Promise<void> => aptGet(["install", "-y", "-q", ...packages]);
  await install().catch(async () => {
    // a fresh machine may not have the package lists yet
    await aptGet(["update", "-q"]);
    await install();
  });
}
