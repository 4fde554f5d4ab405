import * as fs from "node:fs";
import * as path from "node:path";
import { onPath } from "./apt";
import { replaceFolder } from "./replace-folder";
import { ROOT, run, step } from "./project";

/** The profilers of `npm run bench -- profile`: inferno draws flame graphs, py-spy samples the Python worker. */
const PROFILERS_HOME = path.join(ROOT, ".profilers");
const TOOLS = path.join(PROFILERS_HOME, "tools");
const INFERNO_VERSION = "0.12.8";
const PY_SPY_VERSION = "0.4.3";
export const INFERNO_FLAMEGRAPH = path.join(TOOLS, "inferno", "bin", "inferno-flamegraph");
/** py-spy's wheel holds a native program, which runs from wherever its environment is moved. */
export const PY_SPY = path.join(TOOLS, "py-spy", "bin", "py-spy");
/** Which versions were installed (neither tool's files say so). */
const STAMP = path.join(TOOLS, "VERSIONS");
const WANTED = `inferno ${INFERNO_VERSION}, py-spy ${PY_SPY_VERSION}`;

/**
 * Installs inferno (from crates.io, built with cargo, about a minute) and py-spy (a
 * wheel from PyPI, in a virtual environment of its own) into `.profilers/tools`, unless
 * they are there. Only the profile pass needs them.
 */
export async function installProfilers(): Promise<void> {
  const installed = fs.existsSync(INFERNO_FLAMEGRAPH) && fs.existsSync(PY_SPY) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8").trim() === WANTED;
  if (installed) {
    step(`profilers (${WANTED}): present`);
    return;
  }
  if (!onPath("cargo")) throw new Error("the profile pass draws its flame graphs with inferno, built with cargo: install Rust's cargo first");
  step(`profilers: cargo install inferno@${INFERNO_VERSION} (from crates.io, about a minute) and pip install py-spy==${PY_SPY_VERSION} (from PyPI), into ${TOOLS}`);
  fs.mkdirSync(PROFILERS_HOME, { recursive: true });
  const fresh = fs.mkdtempSync(path.join(PROFILERS_HOME, "tools-building-"));
  try {
    await run("cargo", ["install", "--quiet", "--locked", "inferno", "--version", INFERNO_VERSION, "--root", path.join(fresh, "inferno")]);
    await run(process.env.PYTHON ?? "python3", ["-m", "venv", path.join(fresh, "py-spy")]);
    await run(path.join(fresh, "py-spy", "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", `py-spy==${PY_SPY_VERSION}`]);
    fs.writeFileSync(path.join(fresh, "VERSIONS"), `${WANTED}\n`);
    replaceFolder(TOOLS, fresh);
  } catch (error) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw error;
  }
  step(`profilers: installed into ${TOOLS}`);
}
