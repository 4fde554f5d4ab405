import type { ProducerEvents } from "./engine";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * The pauses between attempts at what failed for the moment (records a broker did not
 * take, a schema registry that did not answer): 1 s, then twice as long each time up to
 * 30 s, told to the node through its events (retrying, then recovered once an attempt succeeds).
 */
export class RetryBackoff {
  private failuresInARow = 0;
  private timer: NodeJS.Timeout | undefined;
  private endWait: (() => void) | undefined;
  private cancelled = false;

  constructor(private readonly events: ProducerEvents) {}

  /** Waits before the next attempt; at once after cancel(). */
  async wait(error: Error): Promise<void> {
    if (this.cancelled) return;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.failuresInARow++);
    this.events.retrying?.(error, delay);
    await new Promise<void>((resolve) => {
      this.endWait = resolve;
      this.timer = setTimeout(resolve, delay);
    });
    this.endWait = undefined;
  }

  /** An attempt went through: the next failure waits the shortest time again. */
  succeeded(): void {
    if (this.failuresInARow > 0) this.events.recovered?.();
    this.failuresInARow = 0;
  }

  /** Ends a wait under way, and every later one, at once (the producer stops). */
  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    this.endWait?.();
  }
}
