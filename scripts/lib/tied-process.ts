import { spawn, type ChildProcess, type IOType } from "node:child_process";

/**
 * Starts a command that cannot outlive this Node process: it runs under a small shell
 * that holds our end of a pipe and kills the command when the pipe closes, which
 * happens however this process ends (SIGKILL included). The command gets its own
 * process group so that stop() can reach everything it started.
 */
export interface TiedProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** SIGTERM through the watchdog, then SIGKILL to the group after graceMs. */
  stop(graceMs: number): Promise<void>;
}

// a background job's stdin is /dev/null in sh, so the reader takes our pipe through fd 3
const WATCHDOG = 'exec 3<&0; "$@" & cmd=$!; (cat <&3 >/dev/null; kill $cmd 2>/dev/null) & wait $cmd';

/** Where the command's output goes: a file descriptor, or "pipe", "inherit", "ignore". */
export type OutputTarget = number | IOType;

export interface TiedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdout: OutputTarget;
  stderr: OutputTarget;
}

export function spawnTied(command: string, args: string[], options: TiedOptions): TiedProcess {
  const child: ChildProcess = spawn("sh", ["-c", WATCHDOG, "tied", command, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", options.stdout, options.stderr],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  const stop = async (graceMs: number): Promise<void> => {
    if (running) child.stdin?.end();
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
    child.stdin?.end(); // lets the watchdog's reader go when the command ended by itself
  };
  return { child, exited, stop };
}
