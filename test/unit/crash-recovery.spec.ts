import * as assert from "node:assert/strict";
import { scoreWithRecovery } from "../../src/python/crash-recovery";
import type { RowResult } from "../../src/python/protocol";
import { WorkerExitedError } from "../../src/python/worker-process";

const died = () => new WorkerExitedError(42, { code: null, signal: "SIGKILL" });
const ok = (rows: unknown[]): RowResult[] => rows.map((row) => ({ ok: true, value: row }));

describe("scoreWithRecovery", () => {
  it("retries a batch once when its worker died, and returns the retry's results", async () => {
    const calls: unknown[][] = [];
    const results = await scoreWithRecovery(async (rows) => {
      calls.push(rows);
      if (calls.length === 1) throw died();
      return ok(rows);
    }, [1, 2, 3]);
    assert.deepEqual(calls, [[1, 2, 3], [1, 2, 3]]);
    assert.deepEqual(results, ok([1, 2, 3]));
  });

  it("isolates the row that kills the worker every time: only it fails", async () => {
    const poison = "kill";
    const results = await scoreWithRecovery(async (rows) => {
      if (rows.includes(poison)) throw died();
      return ok(rows);
    }, [1, poison, 3]);
    assert.deepEqual(results[0], { ok: true, value: 1 });
    assert.equal(results[1].ok, false);
    assert.match(!results[1].ok ? results[1].error.message : "", /died each time it scored this record/);
    assert.deepEqual(results[2], { ok: true, value: 3 });
  });

  it("gives a row that died once alone a second chance", async () => {
    let aloneAttempts = 0;
    const results = await scoreWithRecovery(async (rows) => {
      if (rows.length > 1) throw died();
      if (rows[0] === 2 && aloneAttempts++ === 0) throw died(); // another batch's crash took it down once
      return ok(rows);
    }, [1, 2]);
    assert.deepEqual(results, ok([1, 2]));
  });

  it("passes errors that are not crashes straight through", async () => {
    await assert.rejects(
      scoreWithRecovery(async () => {
        throw new Error("model not loaded");
      }, [1]),
      /model not loaded/,
    );
  });
});
