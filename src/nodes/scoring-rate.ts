import type { StatusLook } from "./status";

/** One status interval of a python-model node, per second. */
export interface RateLine {
  /** ok while every record succeeds, busy while some fail, error when all fail. */
  look: StatusLook;
  scored: number;
  failed: number;
  /** Mean records per batch sent to Python, failed ones included. */
  batch: string;
}

/**
 * Counts what became of a python-model node's records, scored apart from failed (a
 * feature error, a Python error, a crash, a timeout, a model not loaded), so that the
 * status never shows records that failed as scored.
 */
export class ScoringRate {
  scored = 0;
  failed = 0;
  lastFailure: Error | undefined;
  private seen = { scored: 0, failed: 0, rows: 0, batches: 0 };
  private meanBatch = 0;

  /** What happened since the previous call; undefined when no record ended. */
  take(rowsSent: number, batches: number, intervalMs: number): RateLine | undefined {
    const scored = this.scored - this.seen.scored;
    const failed = this.failed - this.seen.failed;
    // a batch's rows may end in the next interval (ordering): keep the last mean until another batch ends
    if (batches > this.seen.batches) this.meanBatch = (rowsSent - this.seen.rows) / (batches - this.seen.batches);
    this.seen = { scored: this.scored, failed: this.failed, rows: rowsSent, batches };
    if (scored + failed === 0) return undefined;
    const perSecond = (count: number): number => Math.round((count * 1000) / intervalMs);
    const look: StatusLook = failed === 0 ? "ok" : scored === 0 ? "error" : "busy";
    return { look, scored: perSecond(scored), failed: perSecond(failed), batch: this.meanBatch.toFixed(1) };
  }
}
