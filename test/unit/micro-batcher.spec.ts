import * as assert from "node:assert/strict";
import * as sinon from "sinon";
import { MicroBatcher, QueueFullError, type MicroBatcherOptions } from "../../src/python/micro-batcher";

/** A scorer whose batches complete only when the test says so. */
function controlledScorer() {
  const batches: { rows: number[]; finish: () => void; fail: (error: Error) => void }[] = [];
  const score = (rows: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push({ rows, finish: () => resolve(rows.map((row) => row * 10)), fail: reject });
    });
  return { batches, score };
}

/** The row's result as a promise, for tests that await it. */
function submitted<TOut>(batcher: MicroBatcher<number, TOut>, row: number): Promise<TOut> {
  return new Promise((resolve, reject) => batcher.submit(row, (error, result) => (error ? reject(error) : resolve(result as TOut))));
}

const options = (given: Partial<MicroBatcherOptions>): MicroBatcherOptions => ({ maxBatch: 10, maxWaitMs: 0, maxInFlight: 1, maxQueued: 100, ordered: false, ...given });

describe("MicroBatcher", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers()));
  afterEach(() => clock.restore());

  it("sends a full batch at once and a partial one after maxWaitMs", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 3, maxWaitMs: 5, maxInFlight: 2, maxQueued: 100 }));
    [1, 2, 3, 4].forEach((row) => void submitted(batcher, row));
    assert.deepEqual(batches.map((batch) => batch.rows), [[1, 2, 3]]);
    await clock.tickAsync(4);
    assert.equal(batches.length, 1);
    await clock.tickAsync(1);
    assert.deepEqual(batches.map((batch) => batch.rows), [[1, 2, 3], [4]]);
  });

  it("gives each row its own result, in order", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 2, maxWaitMs: 0, maxInFlight: 2, maxQueued: 100 }));
    const results = [7, 8, 9].map((row) => submitted(batcher, row));
    await clock.tickAsync(0);
    batches.forEach((batch) => batch.finish());
    assert.deepEqual(await Promise.all(results), [70, 80, 90]);
  });

  it("gathers rows while every slot is busy and sends them as soon as one frees", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 100, maxWaitMs: 0, maxInFlight: 1, maxQueued: 1000 }));
    void submitted(batcher, 1);
    await clock.tickAsync(0);
    [2, 3, 4].forEach((row) => void submitted(batcher, row));
    await clock.tickAsync(10);
    assert.equal(batches.length, 1, "no second batch while the only slot is busy");
    batches[0].finish();
    await clock.tickAsync(0);
    assert.deepEqual(batches[1].rows, [2, 3, 4]);
  });

  it("fails every row of a batch whose scoring fails", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 2, maxWaitMs: 0, maxInFlight: 1, maxQueued: 100 }));
    const results = [1, 2].map((row) => submitted(batcher, row).then(() => "ok", (error: Error) => error.message));
    batches[0].fail(new Error("worker died"));
    assert.deepEqual(await Promise.all(results), ["worker died", "worker died"]);
  });

  it("refuses rows beyond maxQueued instead of growing without bound", async () => {
    const { score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 10, maxWaitMs: 1000, maxInFlight: 1, maxQueued: 2 }));
    void submitted(batcher, 1);
    void submitted(batcher, 2);
    await assert.rejects(submitted(batcher, 3), QueueFullError);
  });

  it("fails waiting rows on rejectWaiting", async () => {
    const { score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 10, maxWaitMs: 1000, maxInFlight: 1, maxQueued: 10 }));
    const waiting = submitted(batcher, 1);
    batcher.rejectWaiting(new Error("closed"));
    await assert.rejects(waiting, /closed/);
    assert.equal(batcher.waiting, 0);
  });

  it("hands rows back in the order their batches were formed when ordered, whichever batch finishes first", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 2, maxInFlight: 2, ordered: true }));
    const handedBack: number[] = [];
    [1, 2, 3, 4].forEach((row) => batcher.submit(row, (_error, result) => handedBack.push(result as number)));
    assert.equal(batches.length, 2);
    batches[1].finish();
    await clock.tickAsync(0);
    assert.deepEqual(handedBack, [], "the second batch waits for the first");
    batches[0].finish();
    await clock.tickAsync(0);
    assert.deepEqual(handedBack, [10, 20, 30, 40]);
  });

  it("hands rows back as their batch finishes when not ordered", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, options({ maxBatch: 2, maxInFlight: 2, ordered: false }));
    const handedBack: number[] = [];
    [1, 2, 3, 4].forEach((row) => batcher.submit(row, (_error, result) => handedBack.push(result as number)));
    batches[1].finish();
    await clock.tickAsync(0);
    assert.deepEqual(handedBack, [30, 40]);
  });
});
