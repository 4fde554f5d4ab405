import * as assert from "node:assert/strict";
import { UntilLoaded } from "../../src/python/until-loaded";

describe("UntilLoaded", () => {
  it("holds items until released, then hands them on in arrival order, once", () => {
    const arrivals = new UntilLoaded<number>(10);
    [1, 2, 3].forEach((item) => assert.equal(arrivals.hold(item), true));
    assert.equal(arrivals.decided, false);
    const released: number[] = [];
    arrivals.release((item) => released.push(item));
    arrivals.release((item) => released.push(item));
    assert.deepEqual(released, [1, 2, 3]);
    assert.equal(arrivals.decided, true);
  });

  it("refuses an item beyond its limit, and any item once decided", () => {
    const arrivals = new UntilLoaded<number>(2);
    assert.deepEqual([1, 2, 3].map((item) => arrivals.hold(item)), [true, true, false]);
    arrivals.release(() => undefined);
    assert.equal(arrivals.hold(4), false);
  });
});
