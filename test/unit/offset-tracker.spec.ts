import * as assert from "node:assert/strict";
import { OffsetTracker } from "../../src/kafka/offset-tracker";

describe("OffsetTracker", () => {
  it("commits nothing until the first record of a partition is settled", () => {
    const tracker = new OffsetTracker();
    ["10", "11", "12"].forEach((offset) => tracker.track("t", 0, offset));
    tracker.settle("t", 0, "11");
    tracker.settle("t", 0, "12");
    assert.deepEqual(tracker.pendingCommits(), []);
    assert.equal(tracker.unsettled, 1);
  });

  it("commits one past the highest contiguous settled offset", () => {
    const tracker = new OffsetTracker();
    ["10", "11", "12", "13"].forEach((offset) => tracker.track("t", 0, offset));
    tracker.settle("t", 0, "10");
    tracker.settle("t", 0, "11");
    tracker.settle("t", 0, "13");
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: "12" }]);
    tracker.settle("t", 0, "12");
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: "14" }]);
  });

  it("keeps partitions apart and reports only commit points that moved", () => {
    const tracker = new OffsetTracker();
    tracker.track("t", 0, "5");
    tracker.track("t", 1, "7");
    tracker.settle("t", 1, "7");
    const points = tracker.pendingCommits();
    assert.deepEqual(points, [{ topic: "t", partition: 1, offset: "8" }]);
    tracker.markCommitted(points);
    assert.deepEqual(tracker.pendingCommits(), []);
  });

  it("ignores a second settle and a settle for an untracked record", () => {
    const tracker = new OffsetTracker();
    tracker.track("t", 0, "1");
    assert.equal(tracker.settle("t", 0, "1"), true);
    assert.equal(tracker.settle("t", 0, "1"), false);
    assert.equal(tracker.settle("other", 0, "1"), false);
    assert.equal(tracker.unsettled, 0);
  });

  it("does not track a record again while it is in flight", () => {
    const tracker = new OffsetTracker();
    assert.equal(tracker.track("t", 0, "3"), true);
    assert.equal(tracker.track("t", 0, "3"), false);
    assert.equal(tracker.unsettled, 1);
  });

  it("holds the commit point at a record read again below those already emitted", () => {
    const tracker = new OffsetTracker();
    for (const offset of ["20", "21", "22"]) tracker.track("t", 0, offset);
    tracker.settle("t", 0, "20");
    tracker.settle("t", 0, "21");
    tracker.track("t", 0, "21"); // fetched again after it was settled
    tracker.settle("t", 0, "22");
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: "21" }]);
    tracker.settle("t", 0, "21");
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: "23" }]);
  });

  it("moves the commit point through long runs settled in and out of order", () => {
    const tracker = new OffsetTracker();
    const count = 5000;
    for (let offset = 0; offset < count; offset++) tracker.track("t", 0, String(offset));
    // every even offset first, then every odd one: the point waits at the first odd offset
    for (let offset = 0; offset < count; offset += 2) tracker.settle("t", 0, String(offset));
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: "1" }]);
    for (let offset = 1; offset < count - 2; offset += 2) tracker.settle("t", 0, String(offset));
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: String(count - 1) }]);
    tracker.settle("t", 0, String(count - 1));
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: String(count) }]);
    assert.equal(tracker.unsettled, 0);
  });

  it("handles offsets beyond 2^53 exactly", () => {
    const tracker = new OffsetTracker();
    tracker.track("t", 0, "9007199254740993");
    tracker.settle("t", 0, "9007199254740993");
    assert.deepEqual(tracker.pendingCommits(), [{ topic: "t", partition: 0, offset: "9007199254740994" }]);
  });

  it("forgets partitions that were revoked, with their unsettled records", () => {
    const tracker = new OffsetTracker();
    tracker.track("t", 0, "1");
    tracker.track("t", 1, "1");
    tracker.forget((_topic, partition) => partition === 1);
    assert.equal(tracker.unsettled, 1);
    assert.equal(tracker.settle("t", 0, "1"), false);
  });

  it("counts a settled record as uncommitted until a commit covers it (what a crash would read again)", () => {
    const tracker = new OffsetTracker();
    for (const offset of ["5", "6", "7"]) tracker.track("t", 0, offset);
    tracker.settle("t", 0, "5");
    tracker.settle("t", 0, "7");
    assert.deepEqual([tracker.unsettled, tracker.settledUncommitted, tracker.uncommitted], [1, 2, 3]);
    tracker.markCommitted(tracker.pendingCommits()); // commits up to 6: offset 7 is past the unsettled 6
    assert.deepEqual([tracker.unsettled, tracker.settledUncommitted, tracker.uncommitted], [1, 1, 2]);
    tracker.settle("t", 0, "6");
    tracker.markCommitted(tracker.pendingCommits());
    assert.equal(tracker.uncommitted, 0);
  });

  it("forgets the settled records of a revoked partition too", () => {
    const tracker = new OffsetTracker();
    tracker.track("t", 0, "1");
    tracker.settle("t", 0, "1");
    tracker.forget(() => false);
    assert.equal(tracker.uncommitted, 0);
  });

  it("commits a stopped partition up to its stuck record and no further, counts none of it in flight, and lets the others go on", () => {
    const tracker = new OffsetTracker();
    ["10", "11", "12", "13"].forEach((offset) => tracker.track("t", 0, offset));
    ["3", "4"].forEach((offset) => tracker.track("t", 1, offset));
    tracker.stop("t", 0); // 11 can be written nowhere, and stays unsettled
    assert.equal(tracker.uncommitted, 2, "only partition 1's records are in flight");
    tracker.settle("t", 0, "12");
    tracker.settle("t", 0, "10");
    assert.equal(tracker.track("t", 0, "14"), false, "a stopped partition takes no more records");
    assert.equal(tracker.isUnsettled("t", 0, "13"), false, "its failures are left to be read again");
    tracker.settle("t", 1, "3");
    tracker.settle("t", 1, "4");
    assert.deepEqual(tracker.pendingCommits(), [
      { topic: "t", partition: 0, offset: "11" },
      { topic: "t", partition: 1, offset: "5" },
    ]);
    tracker.markCommitted(tracker.pendingCommits());
    tracker.forget((_topic, partition) => partition === 1);
    assert.equal(tracker.uncommitted, 0);
    assert.equal(tracker.isStopped("t", 0), false, "forgotten when its partition is assigned elsewhere");
  });

  it("rewinds each partition to its last commit, or to its first record read when nothing was committed", () => {
    const tracker = new OffsetTracker();
    ["10", "11", "12"].forEach((offset) => tracker.track("t", 0, offset));
    ["5", "6"].forEach((offset) => tracker.track("t", 1, offset));
    tracker.settle("t", 0, "10");
    tracker.markCommitted(tracker.pendingCommits());
    tracker.settle("t", 1, "6");
    assert.deepEqual(tracker.rewindPoints(), [
      { topic: "t", partition: 0, offset: "11" },
      { topic: "t", partition: 1, offset: "5" },
    ]);
  });
});

