import * as fs from "node:fs";

/** Pids of live processes whose parent is `parent`. */
export function childrenOf(parent: number): number[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // the parent pid is the second field after the command name, which is in parentheses
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Pids of the Python workers that `parent` started, by default this process. Only
 * these: other Node-RED instances on the machine (`npm start`, other test runs) have
 * workers of their own, which must never be counted or killed.
 */
export function workersOf(parent = process.pid): number[] {
  return childrenOf(parent).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("worker.py");
    } catch {
      return false;
    }
  });
}
