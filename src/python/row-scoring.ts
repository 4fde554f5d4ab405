import type { RowCallback } from "./micro-batcher";
import type { Scored } from "./model-service";
import { PythonException } from "./worker-process";

/** What became of the rows of one msg: a result or an error per row, by index. */
export interface RowsOutcome {
  results: unknown[];
  /** The rows that failed, by index (a row refused before Python, or the model's error for it). */
  errors: Map<number, Error>;
  /** The last row's timing, for msg.timing. */
  last?: Scored;
}

/**
 * Scores the rows of one msg, each as a record: a row whose input cannot be read fails
 * alone, before Python; the others are submitted together, so that they travel in the
 * same micro-batches, and `done` is called once every row has its result or its error.
 */
export function scoreRows(rows: unknown[], prepare: (row: unknown) => unknown, submit: (features: unknown, done: RowCallback<Scored>) => void, done: (outcome: RowsOutcome) => void): void {
  const outcome: RowsOutcome = { results: new Array<unknown>(rows.length), errors: new Map() };
  const inputs: { index: number; features: unknown }[] = [];
  rows.forEach((row, index) => {
    try {
      inputs.push({ index, features: prepare(row) });
    } catch (error) {
      outcome.errors.set(index, error as Error);
    }
  });
  let pending = inputs.length;
  if (pending === 0) {
    done(outcome);
    return;
  }
  for (const { index, features } of inputs) {
    submit(features, (error, scored) => {
      if (error || !scored) outcome.errors.set(index, error ?? new Error("no result"));
      else if (!scored.result.ok) outcome.errors.set(index, new PythonException(scored.result.error));
      else {
        outcome.results[index] = scored.result.value;
        outcome.last = scored;
      }
      if (--pending === 0) done(outcome);
    });
  }
}
