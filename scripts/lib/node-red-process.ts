import * as fs from "node:fs";
import * as path from "node:path";
import { openProcessLog } from "./process-log";
import { ROOT } from "./project";
import { spawnTied, type TiedProcess } from "./tied-process";

/**
 * A real Node-RED runtime in its own process, with this package installed in its user
 * directory (as a link, like `npm install <folder>` makes) so that the palette, the
 * examples menu and the nodes are exactly what a user gets.
 */
export interface NodeRedProcess {
  url: string;
  userDir: string;
  /** `node-red.log` in the user directory, appended to across runs and rotated (process-log.ts). */
  logFile: string;
  pid: number | undefined;
  /** What Node-RED has logged so far in this run. */
  log(): string;
  /** Resolves with the exit code when the process ends, asked to or not. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface NodeRedOptions {
  userDir: string;
  port: number;
  /** Written as the flow file before start; an existing flow file is kept when absent. */
  flows?: object[];
  env?: NodeJS.ProcessEnv;
  /** Mirror Node-RED's log to this process's stdout. */
  echo?: boolean;
  /** Protects the editor and admin API with one user (Node-RED's adminAuth, type credentials). */
  adminUser?: { username: string; passwordHash: string };
}

const PACKAGE_NAME = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).name as string;

function settingsFile(port: number, adminUser?: NodeRedOptions["adminUser"]): string {
  const adminAuth = adminUser
    ? `adminAuth: { type: "credentials", users: [${JSON.stringify({ username: adminUser.username, password: adminUser.passwordHash, permissions: "*" })}] },`
    : "";
  return `module.exports = {
  ${adminAuth}
  uiHost: "127.0.0.1",
  uiPort: ${port},
  flowFile: "flows.json",
  flowFilePretty: true,
  // the demo keeps no secrets; a fixed key keeps credentials readable across restarts
  credentialSecret: "local-demo-only",
  // offline by design: no update-notification question, no palette catalogue to fetch
  telemetry: { enabled: false },
  editorTheme: { tours: false, palette: { catalogues: [] } },
  logging: { console: { level: "info", metrics: false, audit: false } },
};
`;
}

export function installPackageInto(userDir: string): void {
  const modules = path.join(userDir, "node_modules");
  const link = path.join(modules, PACKAGE_NAME);
  fs.mkdirSync(modules, { recursive: true });
  if (!fs.existsSync(link)) fs.symlinkSync(ROOT, link, "dir");
}

export async function startNodeRed(options: NodeRedOptions): Promise<NodeRedProcess> {
  const { userDir, port } = options;
  fs.mkdirSync(userDir, { recursive: true });
  installPackageInto(userDir);
  fs.writeFileSync(path.join(userDir, "settings.js"), settingsFile(port, options.adminUser));
  if (options.flows) fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(options.flows, null, 2));
  const log = openProcessLog(path.join(userDir, "node-red.log"), "Node-RED");
  const runtime: TiedProcess = spawnTied(
    process.execPath,
    [require.resolve("node-red/red.js"), "--userDir", userDir, "--settings", path.join(userDir, "settings.js")],
    { cwd: userDir, env: { ...process.env, ...options.env }, stdout: "pipe", stderr: "pipe" },
  );
  const logged = log.follow([runtime.child.stdout, runtime.child.stderr], options.echo ? process.stdout : undefined);
  const url = `http://127.0.0.1:${port}`;
  const instance: NodeRedProcess = {
    url,
    userDir,
    logFile: log.file,
    pid: runtime.child.pid,
    log: log.text,
    exited: runtime.exited,
    stop: async () => {
      await runtime.stop(20_000); // Node-RED gives each node 15 s to close
      await logged;
    },
  };
  let exited = false;
  void runtime.exited.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!/Started flows|Stopped flows|\[error\]/.test(instance.log()) || !(await answers(url))) {
    if (exited) {
      await instance.stop(); // the log is complete once its pipes have closed
      throw new Error(`Node-RED exited while starting:\n${instance.log()}`);
    }
    if (Date.now() > deadline) {
      await instance.stop();
      throw new Error(`Node-RED did not start within 60 s:\n${instance.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return instance;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/settings`);
    return response.ok || response.status === 401; // 401: up, with admin auth on
  } catch {
    return false;
  }
}

/** Replaces every flow with these, as the editor's Deploy (full) does. */
export async function deployFlows(url: string, flows: object[]): Promise<void> {
  const response = await fetch(`${url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full", "Node-RED-API-Version": "v1" },
    body: JSON.stringify(flows),
  });
  if (!response.ok) throw new Error(`deploy failed: ${response.status} ${await response.text()}`);
}
