import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, VENV, VENV_PYTHON, run, step } from "./project";

const REQUIREMENTS = path.join(ROOT, "requirements.txt");
const STAMP = path.join(VENV, ".requirements-sha256");

/**
 * Makes .venv with the pinned requirements, unless it already matches them. Skipped
 * when PYTHON_MODEL_PYTHON names an interpreter the user prepared.
 */
export async function installPython(): Promise<void> {
  if (process.env.PYTHON_MODEL_PYTHON) {
    step(`Python: using PYTHON_MODEL_PYTHON=${process.env.PYTHON_MODEL_PYTHON}`);
    return;
  }
  const hash = crypto.createHash("sha256").update(fs.readFileSync(REQUIREMENTS)).digest("hex");
  if (fs.existsSync(VENV_PYTHON) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8") === hash) {
    step("Python environment .venv: present");
    return;
  }
  if (!fs.existsSync(VENV_PYTHON)) {
    step("Python environment: creating .venv");
    await run(process.env.PYTHON ?? "python3", ["-m", "venv", VENV]);
  }
  step("Python environment: installing requirements.txt (first time: several minutes, TensorFlow is large)");
  await run(VENV_PYTHON, ["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", "-r", REQUIREMENTS]);
  fs.writeFileSync(STAMP, hash);
}

/** The interpreter the demo and tests use. */
export function projectPython(): string {
  return process.env.PYTHON_MODEL_PYTHON ?? VENV_PYTHON;
}
