import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "./embedded-kafka";
import { findRegistryJava, NO_REGISTRY_JAVA, SCHEMA_REGISTRY_APP } from "./install-schema-registry";
import { lastLines, openProcessLog } from "./process-log";
import { childrenOf } from "./processes";
import { SCHEMA_REGISTRY_HOME } from "./project";
import { describeExit } from "./service-group";
import { spawnTied } from "./tied-process";

/**
 * Apicurio Registry on loopback, run from the app that setup fetched, keeping its
 * schemas in memory: every start begins empty. It speaks the Confluent Schema
 * Registry's REST API at `url`. The JVM is tied to this process: it cannot outlive it.
 */
export interface EmbeddedSchemaRegistry {
  /** The Confluent-compatible API's base, http://127.0.0.1:<port>/apis/ccompat/v7. */
  url: string;
  /** The JVM's pid. */
  pid: number;
  /** Appended to across runs and rotated (process-log.ts). */
  logFile: string;
  /** What the registry has logged so far in this run. */
  log(): string;
  /** Resolves with the exit code when the registry ends, asked to or not. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface EmbeddedSchemaRegistryOptions {
  /** Absent or 0 picks a free port. */
  port?: number;
  /** .schema-registry/registry.log unless given. */
  logFile?: string;
  startTimeoutMs?: number;
  /** Ask for an OAuth 2 bearer token with every request, checked against this OpenID issuer (its discovery document and JWKS). */
  oidc?: { issuerUrl: string; audience: string };
}

const CCOMPAT_PATH = "/apis/ccompat/v7";

export async function startSchemaRegistry(options: EmbeddedSchemaRegistryOptions = {}): Promise<EmbeddedSchemaRegistry> {
  if (!fs.existsSync(path.join(SCHEMA_REGISTRY_APP, "quarkus-run.jar"))) {
    throw new Error(`the Schema Registry is not installed in ${SCHEMA_REGISTRY_APP}: run \`npm run setup\``);
  }
  const java = findRegistryJava();
  if (!java) throw new Error(NO_REGISTRY_JAVA);
  const port = options.port || (await freePort());
  // health and metrics are served apart, on 0.0.0.0:9000 unless told otherwise
  const managementPort = await freePort();
  const logFile = options.logFile ?? path.join(SCHEMA_REGISTRY_HOME, "registry.log");
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = openProcessLog(logFile, "Schema Registry");
  const settings = {
    "quarkus.http.host": "127.0.0.1",
    "quarkus.http.port": port,
    "quarkus.management.host": "127.0.0.1",
    "quarkus.management.port": managementPort,
    "quarkus.banner.enabled": false,
    // ISO times, as in the broker's log (the app's own format prints dates as 2026-12+00-06)
    "quarkus.log.console.format": "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5p [%c{3.}] (%t) %s%e%n",
  };
  if (options.oidc) {
    Object.assign(settings, {
      "quarkus.oidc.tenant-enabled": true,
      "quarkus.oidc.auth-server-url": options.oidc.issuerUrl,
      "quarkus.oidc.token.audience": options.oidc.audience,
    });
  }
  const properties = Object.entries(settings).map(([name, value]) => `-D${name}=${value}`);
  // Quarkus also reads config/application.properties in its working directory: the app's folder has none;
  // the jar's full path names the JVM in `ps`; a few test schemas need little heap
  const jvm = spawnTied(java.java, ["-Xms64m", "-Xmx256m", ...properties, "-jar", path.join(SCHEMA_REGISTRY_APP, "quarkus-run.jar")], {
    cwd: SCHEMA_REGISTRY_APP,
    stdout: "pipe",
    stderr: "pipe",
  });
  const logged = log.follow([jvm.child.stdout, jvm.child.stderr]);
  let exitCode: number | null | undefined;
  void jvm.exited.then((code) => (exitCode = code));
  const stop = async (): Promise<void> => {
    await jvm.stop(10_000); // Quarkus stops in well under a second
    await logged;
  };
  let pid: number;
  try {
    await waitUntilReady(`http://127.0.0.1:${managementPort}/health/ready`, () => exitCode, options.startTimeoutMs ?? 90_000);
    pid = jvmPid(jvm.child.pid);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- last lines of ${log.file} ---\n${lastLines(log.text(), 30).join("\n")}`);
  }
  return { url: `http://127.0.0.1:${port}${CCOMPAT_PATH}`, pid, logFile: log.file, log: log.text, exited: jvm.exited, stop };
}

/** The JVM under the tied process's watchdog shell. */
function jvmPid(watchdog: number | undefined): number {
  const pid = watchdog === undefined ? undefined : childrenOf(watchdog).find((child) => commandLine(child).includes("quarkus-run.jar"));
  if (pid === undefined) throw new Error(`the Schema Registry's JVM is not among the children of its watchdog (pid ${watchdog})`);
  return pid;
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** Until the readiness check says UP: storage initialised and the REST APIs served. */
async function waitUntilReady(healthUrl: string, exitCode: () => number | null | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const code = exitCode();
    if (code !== undefined) throw new Error(`the Schema Registry exited while starting (${describeExit(code)})`);
    try {
      const response = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) });
      if (response.ok && ((await response.json()) as { status?: string }).status === "UP") return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the Schema Registry was not ready on ${healthUrl} within ${timeoutMs} ms`);
}
