/**
 * Groups single rows into batches: a batch leaves when it is full or when its first row
 * has waited maxWaitMs. Up to maxInFlight batches are scored at once, so the next batch
 * is on its way while the current one is scored; while all are busy, rows gather into
 * the next batch, which leaves as soon as a slot frees. At most maxQueued rows wait;
 * beyond that submit() fails at once.
 */
export interface MicroBatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  maxInFlight: number;
  maxQueued: number;
}

interface Queued<TIn, TOut> {
  row: TIn;
  resolve: (result: TOut) => void;
  reject: (error: Error) => void;
}

export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`more than ${limit} records are waiting to be scored`);
    this.name = "QueueFullError";
  }
}

export class MicroBatcher<TIn, TOut> {
  private queue: Queued<TIn, TOut>[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly scoreBatch: (rows: TIn[]) => Promise<TOut[]>,
    private readonly options: MicroBatcherOptions,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  submit(row: TIn): Promise<TOut> {
    if (this.queue.length >= this.options.maxQueued) return Promise.reject(new QueueFullError(this.options.maxQueued));
    return new Promise<TOut>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.schedule();
    });
  }

  /** Fails every row not yet handed to the scorer (used on close). */
  rejectWaiting(error: Error): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const item of this.queue.splice(0)) item.reject(error);
  }

  private schedule(): void {
    if (this.inFlight >= this.options.maxInFlight) return; // a finishing batch flushes
    if (this.queue.length >= this.options.maxBatch) {
      this.flush();
    } else if (!this.timer && this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.run(batch).finally(() => {
        this.inFlight--;
        // rows that gathered while every slot was busy have waited long enough
        if (this.queue.length > 0) this.flush();
      });
      if (this.queue.length < this.options.maxBatch) break;
    }
    this.schedule();
  }

  private async run(batch: Queued<TIn, TOut>[]): Promise<void> {
    try {
      const results = await this.scoreBatch(batch.map((item) => item.row));
      batch.forEach((item, index) => item.resolve(results[index]));
    } catch (error) {
      for (const item of batch) item.reject(error as Error);
    }
  }
}
