import * as assert from "node:assert/strict";
import * as sinon from "sinon";
import { MicroBatcher, QueueFullError } from "../../src/python/micro-batcher";

/** A scorer whose batches complete only when the test says so. */
function controlledScorer() {
  const batches: { rows: number[]; finish: () => void; fail: (error: Error) => void }[] = [];
  const score = (rows: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push({ rows, finish: () => resolve(rows.map((row) => row * 10)), fail: reject });
    });
  return { batches, score };
}

describe("MicroBatcher", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers()));
  afterEach(() => clock.restore());

  it("sends a full batch at once and a partial one after maxWaitMs", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, { maxBatch: 3, maxWaitMs: 5, maxInFlight: 2, maxQueued: 100 });
    [1, 2, 3, 4].forEach((row) => void batcher.submit(row));
    assert.deepEqual(batches.map((batch) => batch.rows), [[1, 2, 3]]);
    await clock.tickAsync(4);
    assert.equal(batches.length, 1);
    await clock.tickAsync(1);
    assert.deepEqual(batches.map((batch) => batch.rows), [[1, 2, 3], [4]]);
  });

  it("gives each row its own result, in order", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, { maxBatch: 2, maxWaitMs: 0, maxInFlight: 2, maxQueued: 100 });
    const results = [7, 8, 9].map((row) => batcher.submit(row));
    await clock.tickAsync(0);
    batches.forEach((batch) => batch.finish());
    assert.deepEqual(await Promise.all(results), [70, 80, 90]);
  });

  it("gathers rows while every slot is busy and sends them as soon as one frees", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, { maxBatch: 100, maxWaitMs: 0, maxInFlight: 1, maxQueued: 1000 });
    void batcher.submit(1);
    await clock.tickAsync(0);
    [2, 3, 4].forEach((row) => void batcher.submit(row));
    await clock.tickAsync(10);
    assert.equal(batches.length, 1, "no second batch while the only slot is busy");
    batches[0].finish();
    await clock.tickAsync(0);
    assert.deepEqual(batches[1].rows, [2, 3, 4]);
  });

  it("fails every row of a batch whose scoring fails", async () => {
    const { batches, score } = controlledScorer();
    const batcher = new MicroBatcher(score, { maxBatch: 2, maxWaitMs: 0, maxInFlight: 1, maxQueued: 100 });
    const results = [1, 2].map((row) => batcher.submit(row).then(() => "ok", (error: Error) => error.message));
    batches[0].fail(new Error("worker died"));
    assert.deepEqual(await Promise.all(results), ["worker died", "worker died"]);
  });

  it("refuses rows beyond maxQueued instead of growing without bound", async () => {
    const { score } = controlledScorer();
    const batcher = new MicroBatcher(score, { maxBatch: 10, maxWaitMs: 1000, maxInFlight: 1, maxQueued: 2 });
    void batcher.submit(1);
    void batcher.submit(2);
    await assert.rejects(batcher.submit(3), QueueFullError);
  });

  it("fails waiting rows on rejectWaiting", async () => {
    const { score } = controlledScorer();
    const batcher = new MicroBatcher(score, { maxBatch: 10, maxWaitMs: 1000, maxInFlight: 1, maxQueued: 10 });
    const waiting = batcher.submit(1);
    batcher.rejectWaiting(new Error("closed"));
    await assert.rejects(waiting, /closed/);
    assert.equal(batcher.waiting, 0);
  });
});
