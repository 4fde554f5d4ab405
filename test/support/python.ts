import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { DEMO_MODEL, HOLDOUT_ROWS } from "../../scripts/lib/demo-model";
import { resolveInterpreter } from "../../src/python/interpreter";

export { childrenOf, workersOf } from "../../scripts/lib/processes";

/** The interpreter with Keras that setup prepared (or PYTHON_MODEL_PYTHON). */
export const PYTHON = resolveInterpreter("");
export const IRIS_MODEL = DEMO_MODEL;
export const PETAL_RULES = path.join(PACKAGE_ROOT, "models", "plain", "petal_rules.py");

export const HOLDOUT = HOLDOUT_ROWS;

/** Writes a handler file for one test; returns its path. */
export function writeHandler(name: string, source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "python-model-test-"));
  const file = path.join(dir, `${name}.py`);
  fs.writeFileSync(file, source);
  return file;
}

/** Whether a process still runs (a zombie, dead but not yet reaped by its parent, does not). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Polls every intervalMs; a condition that asks the broker deserves a longer interval than 50 ms. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
