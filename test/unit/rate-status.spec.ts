import * as assert from "node:assert/strict";
import type { NodeAPI } from "node-red";
import * as sinon from "sinon";
import { RateStatus } from "../../src/nodes/rate-status";

/** The catalogue's texts, as a node's locale file gives them. */
const TEXTS: Record<string, string> = {
  "n.status.rate": "__rate__ rec/s, batch __batch__",
  "n.status.rate-failing": "__rate__ rec/s, __failed__ failed/s",
  "n.status.failing": "__failed__ failed/s: __error__",
  "n.status.failed": "failed: __error__",
};
const RED = { _: (key: string, values: Record<string, unknown>) => TEXTS[key].replace(/__(\w+)__/g, (_, name: string) => String(values[name])) } as unknown as NodeAPI;

describe("RateStatus", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers({ toFake: ["setInterval", "clearInterval"] })));
  afterEach(() => clock.restore());

  it("counts failed records apart from the others, per second, and colours the status by them", () => {
    let draws = 0;
    const rates = new RateStatus(RED, "n", () => draws++, () => ({ batch: "12.0" }));
    for (let index = 0; index < 120; index++) rates.succeeded();
    clock.tick(1000);
    assert.deepEqual(rates.view(), { look: "ok", text: "120 rec/s, batch 12.0" });
    for (let index = 0; index < 35; index++) rates.failed(new Error("bad row"));
    rates.succeeded();
    clock.tick(1000);
    assert.deepEqual(rates.view(), { look: "busy", text: "1 rec/s, 35 failed/s" });
    rates.failed(new TypeError("worse row"));
    clock.tick(1000);
    assert.deepEqual(rates.view(), { look: "error", text: "1 failed/s: worse row" });
    assert.equal(draws, 3);
    rates.stop();
  });

  it("keeps the last failure while idle until a second with successes and no failure, then has nothing to show", () => {
    const rates = new RateStatus(RED, "n", () => undefined);
    assert.equal(rates.view(), undefined);
    rates.failed(new Error("refused"));
    clock.tick(2000);
    assert.deepEqual(rates.view(), { look: "error", text: "failed: refused" });
    rates.succeeded();
    rates.failed(new Error("again"));
    clock.tick(1000);
    clock.tick(1000);
    assert.deepEqual(rates.view(), { look: "error", text: "failed: again" }, "a mixed second does not clear it");
    rates.succeeded();
    clock.tick(1000);
    assert.equal(rates.view()?.look, "ok");
    clock.tick(1000);
    assert.equal(rates.view(), undefined);
    rates.stop();
  });
});
