import * as assert from "node:assert/strict";
import { OrderedRelease } from "../../src/python/ordered-release";

describe("OrderedRelease", () => {
  it("runs finished actions in ticket order, holding later ones until earlier ones finish", () => {
    const release = new OrderedRelease();
    const out: number[] = [];
    const [a, b, c] = [release.take(), release.take(), release.take()];
    release.finish(c, () => out.push(c));
    release.finish(b, () => out.push(b));
    assert.equal(out.length, 0);
    assert.equal(release.held, 2);
    release.finish(a, () => out.push(a));
    assert.deepEqual(out, [a, b, c]);
    assert.equal(release.held, 0);
  });
});
