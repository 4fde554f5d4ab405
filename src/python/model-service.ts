import * as fs from "node:fs";
import { scoreWithRecovery } from "./crash-recovery";
import type { LoadLimiter } from "./load-limiter";
import { MicroBatcher, type RowCallback } from "./micro-batcher";
import { StoppingError, type ModelSpec, type RunnerState } from "./model-runner";
import type { ModelInfo, RowResult } from "./protocol";
import type { LogSink } from "./worker-log";
import { WorkerPool, type PoolStateDetail } from "./worker-pool";

export interface ModelServiceOptions {
  spec: ModelSpec;
  workers: number;
  maxBatch: number;
  maxWaitMs: number;
  /** Records that may wait for Python (while the model loads, or when Python falls behind). */
  maxQueued: number;
  /** Results leave in input order, although batches may finish out of order. */
  ordered: boolean;
  /** Load the model again, in new workers, when its file changes. */
  reloadOnChange: boolean;
  /** Where every load of a worker (start, restart, reload) waits for its place. */
  loads: LoadLimiter;
}

/** One record's outcome, with where its time went. */
export interface Scored {
  result: RowResult;
  queuedMs: number;
  scoringMs: number;
  batchSize: number;
}

export interface ModelServiceEvents {
  onState: (state: RunnerState, detail: PoolStateDetail) => void;
  onReload: (outcome: { info?: ModelInfo; error?: Error }) => void;
  onLog: LogSink;
}

interface Queued {
  features: unknown;
  submittedAt: number;
}

/** Batches handed to each worker at once: one being scored, the next already in its pipe. */
const BATCHES_PER_WORKER = 2;
const WATCH_INTERVAL_MS = 1000;

/**
 * Everything between a python-model node and its Python workers: micro-batching,
 * the worker pool, crash recovery, ordering, hot reload and the counters behind the
 * node's status.
 */
export class ModelService {
  /** Rows sent to Python in batches that came back, failed rows among them: with batchesScored, the mean batch size. */
  rowsSent = 0;
  batchesScored = 0;
  private pool: WorkerPool;
  private readonly batcher: MicroBatcher<Queued, Scored>;
  private readonly watched: string[];
  private reloading: WorkerPool | undefined;
  private stopped = false;

  constructor(
    private readonly options: ModelServiceOptions,
    private readonly events: ModelServiceEvents,
  ) {
    this.pool = this.newPool();
    this.batcher = new MicroBatcher((items) => this.scoreBatch(items), {
      maxBatch: options.maxBatch,
      maxWaitMs: options.maxWaitMs,
      maxInFlight: BATCHES_PER_WORKER * options.workers,
      maxQueued: options.maxQueued,
      ordered: options.ordered,
    });
    this.watched = options.reloadOnChange ? [options.spec.modelPath, options.spec.handlerPath].filter(Boolean) : [];
    for (const file of this.watched) fs.watchFile(file, { interval: WATCH_INTERVAL_MS }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs && now.mtimeMs > 0) void this.reload();
    });
  }

  get info(): ModelInfo | undefined {
    return this.pool.info;
  }

  start(): void {
    this.pool.start();
  }

  /** Scores one record; `done` is called once, in input order when the service is ordered. */
  submit(features: unknown, done: RowCallback<Scored>): void {
    this.batcher.submit({ features, submittedAt: Date.now() }, done);
  }

  /** Loads the model in new workers and switches to them once loaded; the old ones finish what they hold. */
  async reload(): Promise<void> {
    if (this.stopped || this.reloading) return;
    const next = this.newPool();
    this.reloading = next;
    next.start();
    try {
      await next.ready();
    } catch (error) {
      this.reloading = undefined;
      await next.stop();
      this.events.onReload({ error: error as Error });
      return;
    }
    this.reloading = undefined;
    if (this.stopped) {
      await next.stop();
      return;
    }
    const previous = this.pool;
    this.pool = next;
    this.events.onReload({ info: next.info });
    await previous.stop(); // closing stdin lets each old worker answer what is already in its pipe
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const file of this.watched) fs.unwatchFile(file);
    this.batcher.rejectWaiting(new StoppingError());
    await Promise.all([this.pool.stop(), this.reloading?.stop()]);
  }

  private newPool(): WorkerPool {
    const pool: WorkerPool = new WorkerPool(this.options.spec, this.options.workers, this.options.loads, {
      onState: (state, detail) => {
        // only the pool in service speaks for the node: not one still loading, nor one retired
        if (pool === this.pool) this.events.onState(state, detail);
      },
      onLog: this.events.onLog,
    });
    return pool;
  }

  private async scoreBatch(items: Queued[]): Promise<Scored[]> {
    const dispatchedAt = Date.now();
    const pool = this.pool;
    const results = await scoreWithRecovery((rows) => pool.score(rows), items.map((item) => item.features));
    const scoredAt = Date.now();
    this.rowsSent += items.length;
    this.batchesScored++;
    return items.map((item, index) => ({
      result: results[index],
      queuedMs: dispatchedAt - item.submittedAt,
      scoringMs: scoredAt - dispatchedAt,
      batchSize: items.length,
    }));
  }
}
