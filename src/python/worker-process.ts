import * as path from "node:path";
import type { Readable, Writable } from "node:stream";
import { PythonShell } from "python-shell";
import { FrameDecoder, encodeFrame, numericRows, type ModelInfo, type PythonError, type Reply, type Request, type RowResult } from "./protocol";
import { WorkerLogSorter, type LogSink } from "./worker-log";

const WORKER_SCRIPT = path.join(__dirname, "worker.py");
/** How long a worker may take to leave after its stdin closes, then after SIGTERM. */
const EXIT_GRACE_MS = 2000;
/** Longest log line kept: TensorFlow can print very long lines. */
const MAX_LOG_LINE = 2000;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (for example a missing interpreter). */
  spawnError?: Error;
}

/** A request could not be answered because the worker is gone. */
export class WorkerExitedError extends Error {
  constructor(
    readonly pid: number | undefined,
    readonly exit: ExitInfo,
  ) {
    super(`Python worker ${pid ?? "(not started)"} exited (${describeExit(exit)})`);
    this.name = "WorkerExitedError";
  }
}

/** An exception raised in Python, for a whole request or one row; named by its Python type. */
export class PythonException extends Error {
  readonly pythonTraceback?: string;

  constructor(error: PythonError) {
    super(error.message);
    this.name = error.type; // so Node-RED shows "ValueError: ..." as Python would
    this.pythonTraceback = error.traceback;
  }
}

export function describeExit(exit: ExitInfo): string {
  if (exit.spawnError) return exit.spawnError.message;
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

export interface WorkerProcessOptions {
  python: string;
  env?: Record<string, string>;
  /** Receives the worker's own output (prints, warnings, tracebacks), each line or traceback with its log level. */
  onLog?: LogSink;
}

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/**
 * One persistent Python process speaking the frame protocol. Requests carry ids and
 * may be pipelined; writes wait for 'drain' when the pipe is full; a dead process
 * rejects everything pending instead of throwing EPIPE into Node-RED.
 */
export class WorkerProcess {
  readonly exited: Promise<ExitInfo>;
  private readonly shell: PythonShell;
  private readonly pending = new Map<number, Pending>();
  private readonly decoder = new FrameDecoder();
  private readonly writeBacklog: Buffer[] = [];
  private nextId = 1;
  private waitingForDrain = false;
  private rowsAsNumbers = false;
  private exitInfo: ExitInfo | undefined;

  constructor(private readonly options: WorkerProcessOptions) {
    this.shell = new PythonShell(WORKER_SCRIPT, {
      mode: "binary",
      pythonPath: options.python,
      pythonOptions: ["-u"],
      env: { ...process.env, ...options.env, PYTHON_MODEL_LOG_FD: "3", PYTHONUNBUFFERED: "1" },
      // fd 3 carries the worker's logs, so python-shell's stderr buffer stays small
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    const child = this.shell.childProcess;
    let markExited: (exit: ExitInfo) => void = () => undefined;
    this.exited = new Promise((resolve) => (markExited = resolve));
    const onExit = (exit: ExitInfo): void => {
      if (this.exitInfo) return;
      this.exitInfo = exit;
      this.rejectAll(new WorkerExitedError(this.pid, exit));
      markExited(exit);
    };
    this.shell.on("error", (error: Error) => onExit({ code: null, signal: null, spawnError: error }));
    child.on("exit", (code, signal) => onExit({ code, signal }));
    child.stdin?.on("error", () => undefined); // EPIPE: the exit handler reports the death
    child.stdout?.on("data", (chunk: Buffer) => this.onData(chunk));
    this.forwardLines(child.stderr);
    this.forwardLines(child.stdio[3] as Readable | null);
  }

  get pid(): number | undefined {
    return this.shell.childProcess.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async load(request: Omit<Extract<Request, { op: "load" }>, "op">): Promise<ModelInfo> {
    // the built-in handlers take numeric rows as one float64 array; a handler of the
    // user's gets its rows as JSON gives them (whole numbers stay ints in Python)
    this.rowsAsNumbers = request.kind !== "python";
    const reply = await this.request({ op: "load", ...request });
    return (reply as { info: ModelInfo }).info;
  }

  async predict(rows: unknown[]): Promise<RowResult[]> {
    const block = this.rowsAsNumbers ? numericRows(rows) : undefined;
    const reply = await (block ? this.request({ op: "predict", shape: block.shape }, block.numbers) : this.request({ op: "predict", rows }));
    return (reply as { results: RowResult[] }).results;
  }

  /** Closes stdin so the worker leaves by itself; SIGTERM, then SIGKILL, if it does not. */
  async stop(): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.shell.childProcess.stdin?.end();
    const escalate = async (signal: NodeJS.Signals): Promise<void> => {
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, EXIT_GRACE_MS, true).unref()),
      ]);
      if (timedOut && this.alive) this.shell.childProcess.kill(signal);
    };
    await escalate("SIGTERM");
    await escalate("SIGKILL");
    return this.exited;
  }

  /** Kills the process now (a hung or misbehaving worker). */
  kill(): void {
    if (this.alive) this.shell.childProcess.kill("SIGKILL");
  }

  private request(body: Request, numbers?: Float64Array): Promise<Reply> {
    if (this.exitInfo) return Promise.reject(new WorkerExitedError(this.pid, this.exitInfo));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write(encodeFrame({ id, ...body }, numbers));
    }).then((reply) => {
      if (!reply.ok) throw new PythonException(reply.error);
      return reply;
    });
  }

  private write(frame: Buffer): void {
    if (this.waitingForDrain) {
      this.writeBacklog.push(frame);
      return;
    }
    const stdin = this.shell.childProcess.stdin as Writable;
    if (!stdin.write(frame)) {
      this.waitingForDrain = true;
      stdin.once("drain", () => {
        this.waitingForDrain = false;
        const backlog = this.writeBacklog.splice(0);
        for (const queued of backlog) this.write(queued);
      });
    }
  }

  private onData(chunk: Buffer): void {
    let replies: Reply[];
    try {
      replies = this.decoder.push(chunk);
    } catch (error) {
      this.options.onLog?.(`protocol error, killing worker: ${(error as Error).message}`, "warn");
      this.kill();
      return;
    }
    for (const reply of replies) {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiter?.resolve(reply);
    }
  }

  private rejectAll(error: Error): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    this.writeBacklog.length = 0;
    for (const waiter of waiters) waiter.reject(error);
  }

  private forwardLines(stream: Readable | null | undefined): void {
    if (!stream) return;
    // read even when nobody listens: a full pipe would block the worker
    const sorter = new WorkerLogSorter(this.options.onLog ?? (() => undefined));
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("error", () => undefined);
    stream.on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      if (partial.length > MAX_LOG_LINE) {
        lines.push(partial);
        partial = "";
      }
      for (const line of lines) if (line.trim()) sorter.push(line.slice(0, MAX_LOG_LINE));
    });
    stream.on("end", () => {
      if (partial.trim()) sorter.push(partial);
      sorter.flush();
    });
  }
}
