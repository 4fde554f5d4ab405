import * as fs from "node:fs";
import * as path from "node:path";
import { onPath } from "./apt";
import { replaceFolder } from "./replace-folder";
import { ROOT, run, step } from "./project";

/** Toxiproxy, the fault-injecting TCP proxy the network-fault tests put between the nodes and the broker. */
export const TOXIPROXY_HOME = path.join(ROOT, ".toxiproxy");
export const TOXIPROXY_SERVER = path.join(TOXIPROXY_HOME, "bin", "toxiproxy-server");
const VERSION = "v2.5.0";
const MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server";
/** `go install` builds carry no version of their own: this file says which one was built. */
const STAMP = path.join(TOXIPROXY_HOME, "bin", "VERSION");

function installedVersion(): string | undefined {
  try {
    return fs.existsSync(TOXIPROXY_SERVER) ? fs.readFileSync(STAMP, "utf8").trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds Toxiproxy's server with `go install` (its modules come from the Go proxy) into
 * `.toxiproxy/bin`. Only the network-fault tests need it, so a failure is reported, not
 * fatal: the demo runs without it.
 */
export async function installToxiproxy(): Promise<void> {
  if (installedVersion() === VERSION) {
    step(`Toxiproxy ${VERSION}: present`);
    return;
  }
  if (!onPath("go")) {
    step(`Toxiproxy ${VERSION}: not built, as Go is not on the PATH; the network-fault tests fail without it`);
    return;
  }
  step(`Toxiproxy ${VERSION} (a fault-injecting TCP proxy, for the network-fault tests): go install ${MODULE}@${VERSION}, its modules from the Go proxy (about a minute the first time)`);
  fs.mkdirSync(TOXIPROXY_HOME, { recursive: true });
  const fresh = fs.mkdtempSync(path.join(TOXIPROXY_HOME, "bin-building-"));
  try {
    await run("go", ["install", `${MODULE}@${VERSION}`], { env: { ...process.env, GOBIN: fresh } });
    fs.renameSync(path.join(fresh, "server"), path.join(fresh, "toxiproxy-server"));
    fs.writeFileSync(path.join(fresh, "VERSION"), `${VERSION}\n`);
    replaceFolder(path.dirname(TOXIPROXY_SERVER), fresh);
    step(`Toxiproxy ${VERSION}: built into ${path.dirname(TOXIPROXY_SERVER)}`);
  } catch (error) {
    fs.rmSync(fresh, { recursive: true, force: true });
    step(`Toxiproxy: could not be built (${(error as Error).message}); the network-fault tests fail without it`);
  }
}
