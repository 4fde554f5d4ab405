import { spawn, type SpawnOptions } from "node:child_process";
import * as path from "node:path";
import { H2O_LIBS, PACKAGE_ROOT } from "../../src/package-paths";

export const ROOT = PACKAGE_ROOT;
export const KAFKA_HOME = path.join(ROOT, ".kafka");
export const KAFKA_LIBS = path.join(KAFKA_HOME, "libs");
/** h2o-genmodel and the h2o handler's batch scorer (.h2o/libs; the node passes its jars to the handler). */
export { H2O_LIBS };
export const H2O_HOME = path.dirname(H2O_LIBS);
/** Apicurio Registry, the Confluent-compatible Schema Registry the tests run (install-schema-registry.ts). */
export const SCHEMA_REGISTRY_HOME = path.join(ROOT, ".schema-registry");
export const VENV = path.join(ROOT, ".venv");
export const VENV_PYTHON = path.join(VENV, "bin", "python");

/** Prints a setup or run step so the user sees what takes the time. */
export function step(text: string): void {
  console.log(`[setup] ${text}`);
}

/** Runs a command with its output shown; rejects when it fails. */
export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: "inherit", ...options });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}
