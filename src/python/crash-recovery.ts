import type { RowResult } from "./protocol";
import { WorkerExitedError } from "./worker-process";

type Score = (rows: unknown[]) => Promise<RowResult[]>;

/**
 * Scores a batch so that a worker crash costs as little as possible: a batch whose
 * worker died is retried once (on a fresh or another worker); if it kills its worker
 * again, its rows are scored one at a time so that only a row that kills the worker
 * on its own, twice, fails. Errors other than a crash pass through.
 */
export async function scoreWithRecovery(score: Score, rows: unknown[]): Promise<RowResult[]> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      return await score(rows);
    } catch (error) {
      if (!(error instanceof WorkerExitedError)) throw error;
      if (attempt === 2 && rows.length === 1) return [crashed(error)];
    }
  }
  const results: RowResult[] = [];
  for (const row of rows) results.push(await scoreAlone(score, row));
  return results;
}

async function scoreAlone(score: Score, row: unknown): Promise<RowResult> {
  let lastCrash: WorkerExitedError | undefined;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      return (await score([row]))[0];
    } catch (error) {
      if (!(error instanceof WorkerExitedError)) throw error;
      lastCrash = error;
    }
  }
  return crashed(lastCrash as WorkerExitedError);
}

function crashed(error: WorkerExitedError): RowResult {
  return {
    ok: false,
    error: { type: "WorkerCrash", message: `the Python worker died each time it scored this record (${error.message})` },
  };
}
