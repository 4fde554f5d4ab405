import * as fs from "node:fs";
import * as path from "node:path";

/** The folder holding this package's package.json, found from the compiled file's location. */
function findPackageRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** Where the project's own Python environment lives when setup has made it. */
export const PROJECT_VENV = path.join(PACKAGE_ROOT, ".venv");

/** Where setup puts h2o-genmodel and the jars it needs, for H2O MOJO models. */
export const H2O_LIBS = path.join(PACKAGE_ROOT, ".h2o", "libs");

/** A relative path that exists in none of the places it is looked up in. */
export class PathNotFoundError extends Error {
  constructor(
    readonly configured: string,
    readonly lookedIn: string[],
  ) {
    super(`${configured} not found (looked in ${lookedIn.join(", ")})`);
    this.name = "PathNotFoundError";
  }
}

/**
 * Resolves a path from a node's configuration: absolute paths stay, relative ones are
 * looked up in the Node-RED user directory first, then in this package (so that the
 * bundled example flows work as imported). A relative path found in neither throws a
 * PathNotFoundError that names every place looked in.
 */
export function resolveUserPath(configured: string, userDir: string | undefined): string {
  if (path.isAbsolute(configured)) return configured;
  const candidates = [userDir, PACKAGE_ROOT].filter((dir): dir is string => Boolean(dir)).map((dir) => path.join(dir, configured));
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new PathNotFoundError(configured, candidates);
  return found;
}
