import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_VENV } from "../package-paths";

/**
 * The python executable for a node: a configured executable or venv folder; when
 * blank, PYTHON_MODEL_PYTHON from the environment, else the project's own .venv when
 * setup made one, else python3 on the PATH.
 */
export function resolveInterpreter(configured: string): string {
  const choice = configured.trim() || process.env.PYTHON_MODEL_PYTHON?.trim() || "";
  if (!choice) {
    const projectPython = path.join(PROJECT_VENV, "bin", "python");
    return fs.existsSync(projectPython) ? projectPython : "python3";
  }
  if (fs.existsSync(choice) && fs.statSync(choice).isDirectory()) {
    const venvPython = path.join(choice, "bin", "python");
    if (!fs.existsSync(venvPython)) throw new Error(`${choice} is a folder but not a Python virtual environment (no bin/python)`);
    return venvPython;
  }
  if (path.isAbsolute(choice) && !fs.existsSync(choice)) throw new Error(`Python interpreter not found: ${choice}`);
  return choice;
}
