import * as os from "node:os";

/** Gives the place back; calling it again does nothing. */
export type Release = () => void;

export interface WaitOptions {
  /** Called when the load has to wait, and again each time its place in the queue changes: how many loads wait before it. */
  onQueued?: (ahead: number) => void;
  /** Aborting leaves the queue at once; the wait then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Waits before every queued load that is not itself first (someone is waiting for the answer). */
  first?: boolean;
}

interface Waiter {
  grant: (release: Release) => void;
  options: WaitOptions;
  reported?: number;
}

/**
 * A load that has held its place this long gives it up and goes on loading: a handler
 * stuck in load() (waiting on a network share, say) must not keep every other node waiting.
 */
const MAX_HOLD_MS = 120_000;

/**
 * Bounds how many models load at once. Loading imports TensorFlow or JAX and builds the
 * model: seconds of CPU for each worker. Started all at once on a small machine they
 * share the cores, so every one of them is slow and none is ready early; in turns, the
 * first is ready as soon as it would be alone. Places are given in the order asked for.
 */
export class LoadLimiter {
  private holding = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly limit: number,
    private readonly maxHoldMs = MAX_HOLD_MS,
  ) {}

  /** Loads under way. */
  get loading(): number {
    return this.holding;
  }

  /** Loads waiting for a place. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with a place once fewer than `limit` loads hold one and no earlier load waits. */
  acquire(options: WaitOptions = {}): Promise<Release> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.holding < this.limit && this.queue.length === 0) return Promise.resolve(this.take());
    return new Promise<Release>((resolve, reject) => {
      const leave = (): void => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(signal?.reason);
        this.reportPlaces();
      };
      const waiter: Waiter = {
        options,
        grant: (release) => {
          signal?.removeEventListener("abort", leave);
          resolve(release);
        },
      };
      signal?.addEventListener("abort", leave, { once: true });
      const firstOrdinary = options.first ? this.queue.findIndex((queued) => !queued.options.first) : -1;
      this.queue.splice(firstOrdinary < 0 ? this.queue.length : firstOrdinary, 0, waiter);
      this.reportPlaces();
    });
  }

  private take(): Release {
    this.holding++;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.holding--;
      this.grantWaiting();
    };
    const timer = setTimeout(release, this.maxHoldMs);
    timer.unref();
    return release;
  }

  private grantWaiting(): void {
    while (this.holding < this.limit && this.queue.length > 0) {
      const next = this.queue.shift() as Waiter;
      next.grant(this.take());
    }
    this.reportPlaces();
  }

  /** Tells each waiting load its place when it has changed. */
  private reportPlaces(): void {
    this.queue.forEach((waiter, ahead) => {
      if (waiter.reported === ahead) return;
      waiter.reported = ahead;
      waiter.options.onQueued?.(ahead);
    });
  }
}

/** The variable that overrides how many models may load at once in this Node-RED. */
export const MAX_LOADS_VARIABLE = "PYTHON_MODEL_MAX_LOADS";
const MAX_LOADS_CEILING = 64;

/**
 * PYTHON_MODEL_MAX_LOADS, else half the cores (at least one): the other half stays with
 * Node-RED and the nodes already scoring, since restarts and reloads happen while a
 * flow runs.
 */
export function maxLoadsSetting(env: NodeJS.ProcessEnv = process.env, cores = os.cpus().length): number {
  const text = env[MAX_LOADS_VARIABLE]?.trim();
  if (!text) return Math.max(1, Math.floor(cores / 2));
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_LOADS_CEILING) {
    throw new Error(`${MAX_LOADS_VARIABLE} must be a whole number from 1 to ${MAX_LOADS_CEILING}, got "${text}"`);
  }
  return value;
}

let shared: LoadLimiter | undefined;

/** The one limiter of this process: every worker of every python-model node, every model check. */
export function modelLoads(): LoadLimiter {
  return (shared ??= new LoadLimiter(maxLoadsSetting()));
}
