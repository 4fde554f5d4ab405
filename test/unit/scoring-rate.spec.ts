import * as assert from "node:assert/strict";
import { ScoringRate } from "../../src/nodes/scoring-rate";

describe("ScoringRate", () => {
  it("counts failed records apart from scored ones, and colours the line by them", () => {
    const rate = new ScoringRate();
    rate.scored = 120;
    assert.deepEqual(rate.take(120, 10, 1000), { look: "ok", scored: 120, failed: 0, batch: "12.0" });
    rate.scored += 120;
    rate.failed += 35;
    assert.deepEqual(rate.take(275, 20, 1000), { look: "busy", scored: 120, failed: 35, batch: "15.5" });
    rate.failed += 40;
    assert.deepEqual(rate.take(315, 24, 1000), { look: "error", scored: 0, failed: 40, batch: "10.0" });
  });

  it("gives nothing for an interval in which no record ended, and rates per second", () => {
    const rate = new ScoringRate();
    assert.equal(rate.take(0, 0, 1000), undefined);
    rate.failed = 10;
    assert.deepEqual(rate.take(0, 0, 2000), { look: "error", scored: 0, failed: 5, batch: "0.0" });
  });
});
