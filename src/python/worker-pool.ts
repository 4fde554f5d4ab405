import type { LoadLimiter } from "./load-limiter";
import { ModelNotReadyError, ModelRunner, StoppingError, type ModelSpec, type RunnerState } from "./model-runner";
import type { ModelInfo, RowResult } from "./protocol";
import type { LogSink } from "./worker-log";

/** The pool as a whole; `ahead` (when queued) is the place of its worker nearest to loading. */
export interface PoolStateDetail {
  restarts: number;
  ready: number;
  size: number;
  ahead?: number;
  error?: Error;
  info?: ModelInfo;
}

export interface PoolEvents {
  /** Called whenever any worker changes state, with the state of the pool as a whole. */
  onState?: (state: RunnerState, detail: PoolStateDetail) => void;
  onLog?: LogSink;
}

/**
 * N workers with the same model, for more cores. Each batch goes to the ready worker
 * with the fewest batches in flight; while none is ready, batches wait for the first.
 */
export class WorkerPool {
  private readonly runners: ModelRunner[];
  private readonly inFlight = new Map<ModelRunner, number>();

  constructor(
    spec: ModelSpec,
    size: number,
    loads: LoadLimiter,
    private readonly events: PoolEvents = {},
  ) {
    this.runners = Array.from(
      { length: Math.max(1, size) },
      (_, index) =>
        new ModelRunner(spec, loads, {
          onState: () => this.report(),
          onLog: (text, level) => events.onLog?.(size > 1 ? `[worker ${index + 1}] ${text}` : text, level),
        }),
    );
    for (const runner of this.runners) this.inFlight.set(runner, 0);
  }

  start(): void {
    for (const runner of this.runners) runner.start();
  }

  get size(): number {
    return this.runners.length;
  }

  get state(): RunnerState {
    const states = this.runners.map((runner) => runner.state);
    if (states.includes("ready")) return "ready";
    if (states.every((state) => state === "stopped")) return "stopped";
    if (states.every((state) => state === "failed" || state === "stopped")) return "failed";
    if (states.includes("restarting")) return "restarting";
    return states.includes("starting") ? "starting" : "queued";
  }

  get info(): ModelInfo | undefined {
    return this.runners.find((runner) => runner.info)?.info;
  }

  get restarts(): number {
    return this.runners.reduce((sum, runner) => sum + runner.restarts, 0);
  }

  /** Resolves once any worker has the model loaded; rejects if none ever will. */
  async ready(): Promise<void> {
    await Promise.any(this.runners.map((runner) => runner.ready())).catch(() => {
      if (this.state === "stopped") throw new StoppingError();
      throw new ModelNotReadyError(this.runners.find((runner) => runner.lastError)?.lastError);
    });
  }

  async score(rows: unknown[]): Promise<RowResult[]> {
    let runner = this.leastBusyReady();
    if (!runner) {
      await this.ready();
      runner = this.leastBusyReady() ?? this.runners[0];
    }
    this.inFlight.set(runner, (this.inFlight.get(runner) ?? 0) + 1);
    try {
      return await runner.score(rows);
    } finally {
      this.inFlight.set(runner, (this.inFlight.get(runner) ?? 1) - 1);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }

  private leastBusyReady(): ModelRunner | undefined {
    let best: ModelRunner | undefined;
    for (const runner of this.runners) {
      if (runner.state !== "ready") continue;
      if (!best || (this.inFlight.get(runner) ?? 0) < (this.inFlight.get(best) ?? 0)) best = runner;
    }
    return best;
  }

  private report(): void {
    const state = this.state;
    const ready = this.runners.filter((runner) => runner.state === "ready").length;
    const error = this.runners.find((runner) => runner.lastError)?.lastError;
    const places = this.runners.flatMap((runner) => (runner.state === "queued" ? [runner.ahead] : []));
    const ahead = places.length > 0 ? Math.min(...places) : undefined;
    this.events.onState?.(state, { restarts: this.restarts, ready, size: this.size, ahead, error, info: this.info });
  }
}
