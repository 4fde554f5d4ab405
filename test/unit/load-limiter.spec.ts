import * as assert from "node:assert/strict";
import * as sinon from "sinon";
import { LoadLimiter, maxLoadsSetting, type Release } from "../../src/python/load-limiter";

/** Lets the promise callbacks queued so far run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A load that asks for a place now; records what it is told and when it gets the place. */
function ask(limiter: LoadLimiter, name: string, log: string[], options: { first?: boolean; signal?: AbortSignal } = {}) {
  const places: number[] = [];
  const load = {
    places,
    release: undefined as Release | undefined,
    outcome: limiter
      .acquire({ ...options, onQueued: (ahead) => places.push(ahead) })
      .then((release) => {
        load.release = release;
        log.push(name);
      })
      .catch((error: Error) => log.push(`${name} left: ${error.message}`)),
  };
  return load;
}

describe("LoadLimiter", () => {
  it("gives up to `limit` places at once and the rest in the order they were asked for", async () => {
    const limiter = new LoadLimiter(2);
    const granted: string[] = [];
    const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => ask(limiter, name, granted));
    await settle();
    assert.deepEqual(granted, ["a", "b"]);
    assert.equal(limiter.loading, 2);
    assert.equal(limiter.waiting, 2);
    b.release?.();
    await settle();
    assert.deepEqual(granted, ["a", "b", "c"]);
    a.release?.();
    c.release?.();
    await settle();
    assert.deepEqual(granted, ["a", "b", "c", "d"]);
    d.release?.();
    assert.equal(limiter.loading, 0);
  });

  it("tells a queued load how many wait before it, and again each time that changes", async () => {
    const limiter = new LoadLimiter(1);
    const granted: string[] = [];
    const loads = ["a", "b", "c", "d"].map((name) => ask(limiter, name, granted));
    await settle();
    assert.deepEqual(
      loads.map((load) => load.places),
      [[], [0], [1], [2]],
    );
    for (const load of loads.slice(0, 3)) {
      await settle();
      load.release?.();
    }
    await settle();
    assert.deepEqual(
      loads.map((load) => load.places),
      [[], [0], [1, 0], [2, 1, 0]],
    );
    assert.deepEqual(granted, ["a", "b", "c", "d"]);
  });

  it("lets a load leave the queue at once when it is aborted: those behind it move up, and it never gets a place", async () => {
    const limiter = new LoadLimiter(1);
    const log: string[] = [];
    const leaving = new AbortController();
    const first = ask(limiter, "a", log);
    ask(limiter, "b", log, { signal: leaving.signal });
    const c = ask(limiter, "c", log);
    await settle();
    leaving.abort(new Error("node closed"));
    await settle();
    assert.deepEqual(log, ["a", "b left: node closed"]);
    assert.deepEqual(c.places, [1, 0]);
    assert.equal(limiter.waiting, 1);
    first.release?.();
    await settle();
    assert.deepEqual(log, ["a", "b left: node closed", "c"]);
  });

  it("refuses a load whose signal was aborted before it asked", async () => {
    const limiter = new LoadLimiter(1);
    const log: string[] = [];
    const gone = new AbortController();
    gone.abort(new Error("closed already"));
    await ask(limiter, "a", log, { signal: gone.signal }).outcome;
    assert.deepEqual(log, ["a left: closed already"]);
    assert.equal(limiter.loading, 0);
  });

  it("gives back one place however often a release is called", async () => {
    const limiter = new LoadLimiter(1);
    const log: string[] = [];
    const a = ask(limiter, "a", log);
    ask(limiter, "b", log);
    ask(limiter, "c", log);
    await settle();
    a.release?.();
    a.release?.();
    await settle();
    assert.deepEqual(log, ["a", "b"]);
    assert.equal(limiter.loading, 1);
  });

  it("puts a load that asks to be first before every ordinary queued load, after earlier first ones", async () => {
    const limiter = new LoadLimiter(1);
    const log: string[] = [];
    const holder = ask(limiter, "holder", log);
    ask(limiter, "node 1", log);
    ask(limiter, "node 2", log);
    const check1 = ask(limiter, "check 1", log, { first: true });
    const check2 = ask(limiter, "check 2", log, { first: true });
    await settle();
    assert.deepEqual([check1.places, check2.places], [[0], [1]]);
    holder.release?.();
    await settle();
    check1.release?.();
    await settle();
    check2.release?.();
    await settle();
    assert.deepEqual(log, ["holder", "check 1", "check 2", "node 1"]);
  });

  it("takes the place back from a load that holds it too long, so that one stuck load cannot stop the others", async () => {
    const clock = sinon.useFakeTimers();
    try {
      const limiter = new LoadLimiter(1, 60_000);
      const log: string[] = [];
      ask(limiter, "stuck", log);
      ask(limiter, "next", log);
      await clock.tickAsync(59_999);
      assert.deepEqual(log, ["stuck"]);
      await clock.tickAsync(1);
      assert.deepEqual(log, ["stuck", "next"]);
    } finally {
      clock.restore();
    }
  });
});

describe("maxLoadsSetting", () => {
  it("allows half the cores by default, at least one", () => {
    assert.equal(maxLoadsSetting({}, 1), 1);
    assert.equal(maxLoadsSetting({}, 2), 1);
    assert.equal(maxLoadsSetting({}, 8), 4);
  });

  it("takes PYTHON_MODEL_MAX_LOADS when set", () => {
    assert.equal(maxLoadsSetting({ PYTHON_MODEL_MAX_LOADS: "3" }, 2), 3);
    assert.equal(maxLoadsSetting({ PYTHON_MODEL_MAX_LOADS: " " }, 8), 4);
  });

  it("says what is wrong with a value that is not a whole number from 1 to 64", () => {
    for (const bad of ["0", "-1", "1.5", "two", "65"]) {
      assert.throws(() => maxLoadsSetting({ PYTHON_MODEL_MAX_LOADS: bad }, 2), { message: `PYTHON_MODEL_MAX_LOADS must be a whole number from 1 to 64, got "${bad}"` });
    }
  });
});
