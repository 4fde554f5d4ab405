import type { LoadLimiter, Release } from "./load-limiter";
import type { ModelInfo, ModelKind, RowResult } from "./protocol";
import type { LogSink } from "./worker-log";
import { WorkerExitedError, WorkerProcess, describeExit } from "./worker-process";

export interface ModelSpec {
  python: string;
  kind: ModelKind;
  modelPath: string;
  handlerPath: string;
  /** Passed to the handler's load(path, config). */
  config: Record<string, unknown>;
  /** A batch that takes longer kills the worker, which is then restarted. */
  timeoutMs: number;
}

/** "queued": waiting for a place to load the model (see LoadLimiter). */
export type RunnerState = "queued" | "starting" | "ready" | "restarting" | "failed" | "stopped";

export interface RunnerEvents {
  onState?: (state: RunnerState, detail: { restarts: number; error?: Error; info?: ModelInfo }) => void;
  onLog?: LogSink;
}

export class BatchTimeoutError extends Error {
  constructor(timeoutMs: number, pid: number | undefined) {
    super(`scoring took longer than ${timeoutMs} ms; Python worker ${pid} was killed and is restarted`);
    this.name = "BatchTimeoutError";
  }
}

/** The node is closing: the record was not scored, and (from Kafka) is not settled, so it is read again. */
export class StoppingError extends Error {
  constructor() {
    super("the python-model node is stopping");
    this.name = "StoppingError";
  }
}

export class ModelNotReadyError extends Error {
  constructor(cause: Error | undefined) {
    super(`the model is not loaded: ${cause?.message ?? "no worker could load it"}`);
    this.name = "ModelNotReadyError";
  }
}

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** Deaths in a row, each before the model finished loading, after which we stop trying. */
const MAX_FAILED_STARTS = 3;

interface Waiter {
  resolve: (worker: WorkerProcess) => void;
  reject: (error: Error) => void;
}

/**
 * Keeps one Python worker with the model loaded: starts it, restarts it with back-off
 * when it dies, and hands it out only once the model is loaded. Requests made while it
 * starts wait for it. Each start waits for a place among the loads of the process; the
 * Python process is started only once it has one, so a runner stopped while queued
 * leaves nothing behind.
 */
export class ModelRunner {
  state: RunnerState = "starting";
  restarts = 0;
  info: ModelInfo | undefined;
  lastError: Error | undefined;
  /** While queued: how many loads wait before this one. */
  ahead = 0;
  private worker: WorkerProcess | undefined;
  private waiters: Waiter[] = [];
  private failedStarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private queued: AbortController | undefined;

  constructor(
    private readonly spec: ModelSpec,
    private readonly loads: LoadLimiter,
    private readonly events: RunnerEvents = {},
  ) {}

  start(): void {
    this.launch();
  }

  async score(rows: unknown[]): Promise<RowResult[]> {
    const worker = await this.ready();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new BatchTimeoutError(this.spec.timeoutMs, worker.pid));
        worker.kill();
      }, this.spec.timeoutMs);
    });
    try {
      return await Promise.race([worker.predict(rows), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the loaded worker, waiting while it starts or restarts. */
  ready(): Promise<WorkerProcess> {
    if (this.state === "ready" && this.worker) return Promise.resolve(this.worker);
    if (this.state === "stopped") return Promise.reject(new StoppingError());
    if (this.state === "failed") return Promise.reject(new ModelNotReadyError(this.lastError));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async stop(): Promise<void> {
    this.setState("stopped");
    clearTimeout(this.restartTimer);
    this.queued?.abort(new StoppingError());
    this.settleWaiters(new StoppingError());
    await this.worker?.stop();
  }

  private launch(): void {
    const queued = new AbortController();
    this.queued = queued;
    const loading = this.state;
    this.loads
      .acquire({
        signal: queued.signal,
        onQueued: (ahead) => {
          this.ahead = ahead;
          this.setState("queued");
        },
      })
      .then((release) => {
        this.queued = undefined;
        if (this.state === "stopped") return release();
        if (this.state === "queued") this.setState(loading);
        this.load(release);
      }, () => undefined); // stopped while queued: there is nothing to clean up
  }

  /** Starts the worker and loads the model in it; the place is given back once the load ends either way. */
  private load(release: Release): void {
    const worker = new WorkerProcess({ python: this.spec.python, onLog: this.events.onLog });
    this.worker = worker;
    worker.exited.then((exit) => {
      release();
      this.onWorkerExit(worker, new WorkerExitedError(worker.pid, exit));
    });
    worker
      .load({ kind: this.spec.kind, model_path: this.spec.modelPath, handler_path: this.spec.handlerPath, config: this.spec.config })
      .finally(release)
      .then(
        (info) => {
          if (this.worker !== worker || this.state === "stopped") return;
          this.info = info;
          this.failedStarts = 0;
          this.lastError = undefined;
          this.setState("ready", info);
          this.settleWaiters(undefined, worker);
        },
        (error: Error) => {
          if (this.worker !== worker || this.state === "stopped") return;
          if (error instanceof WorkerExitedError) return; // onWorkerExit decides
          // the model itself cannot load (missing file, missing package): retrying will not help
          this.fail(error);
          void worker.stop();
        },
      );
  }

  private onWorkerExit(worker: WorkerProcess, error: WorkerExitedError): void {
    if (this.worker !== worker || this.state === "stopped" || this.state === "failed") return;
    if (error.exit.spawnError) {
      this.fail(new Error(`cannot start Python (${this.spec.python}): ${describeExit(error.exit)}`));
      return;
    }
    this.lastError = error;
    if (this.state !== "ready" && ++this.failedStarts >= MAX_FAILED_STARTS) {
      this.fail(new Error(`Python worker died ${this.failedStarts} times while loading the model: ${error.message}`));
      return;
    }
    this.restarts++;
    this.setState("restarting");
    const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.failedStarts);
    this.restartTimer = setTimeout(() => this.launch(), backoff);
  }

  private fail(error: Error): void {
    this.lastError = error;
    this.setState("failed");
    this.settleWaiters(new ModelNotReadyError(error));
  }

  private settleWaiters(error: Error | undefined, worker?: WorkerProcess): void {
    const waiters = this.waiters.splice(0);
    for (const waiter of waiters) {
      if (worker) waiter.resolve(worker);
      else waiter.reject(error ?? new StoppingError());
    }
  }

  private setState(state: RunnerState, info?: ModelInfo): void {
    this.state = state;
    this.events.onState?.(state, { restarts: this.restarts, error: this.lastError, info });
  }
}
