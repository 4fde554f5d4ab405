import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as sinon from "sinon";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { BatchTimeoutError, ModelNotReadyError, type RunnerState } from "../../src/python/model-runner";
import { WorkerPool, type PoolEvents } from "../../src/python/worker-pool";
import type { ModelInfo, RowResult } from "../../src/python/protocol";
import { registerSettler } from "../../src/kafka/settlement";
import { catchNode, helper, pythonModel, statusOf, statusesOf } from "../support/node-red-helper";
import { waitFor } from "../support/python";

interface Received {
  payload?: unknown;
  features?: unknown;
  key?: unknown;
  error?: { message: string };
}

const flow = [
  { id: "f1", type: "tab" },
  { id: "model", type: "python-model", z: "f1", kind: "python", handlerPath: __filename, python: process.execPath, batchSize: 8, maxWaitMs: 1, wires: [["out"]] },
  { id: "out", type: "helper", z: "f1" },
  { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
  { id: "errors", type: "helper", z: "f1" },
];

const LOADED: ModelInfo = { python: "3.11", executable: "python", pid: 1 };

/** Tells the node what its pool's workers did, as the pool does (through the events it was made with). */
function announce(pool: WorkerPool, state: RunnerState, detail: { info?: ModelInfo; error?: Error } = {}): void {
  (pool as unknown as { events: PoolEvents }).events.onState?.(state, { restarts: 0, ready: state === "ready" ? 1 : 0, size: 1, ...detail });
}

/** Feeds the node a msg every few ms until stopped. */
function feed(payload: (index: number) => unknown): { stop: () => void } {
  let index = 0;
  const timer = setInterval(() => helper.getNode("model").receive({ payload: payload(index++) }), 5);
  return { stop: () => clearInterval(timer) };
}

/** python-model against a stubbed worker pool: the Node-RED side alone, no Python. */
describe("python-model node (worker pool stubbed)", () => {
  let score: sinon.SinonStub<[unknown[]], Promise<RowResult[]>>;
  let start: sinon.SinonStub;
  /** Unless a test says otherwise, the model loads as the pool starts. */
  let loadsAtStart: boolean;
  let loaded: boolean;
  let modelInfo: ModelInfo;
  const startedPool = (): WorkerPool => start.lastCall.thisValue as WorkerPool;
  const modelLoads = (pool: WorkerPool): void => {
    loaded = true;
    announce(pool, "ready", { info: modelInfo });
  };

  beforeEach(() => {
    loadsAtStart = true;
    loaded = false;
    modelInfo = LOADED;
    start = sinon.stub(WorkerPool.prototype, "start").callsFake(function (this: WorkerPool) {
      if (loadsAtStart) modelLoads(this);
    });
    sinon.stub(WorkerPool.prototype, "info").get(() => (loaded ? modelInfo : undefined));
    sinon.stub(WorkerPool.prototype, "stop").resolves();
    score = sinon.stub(WorkerPool.prototype, "score");
  });
  afterEach(async () => {
    await helper.unload();
    sinon.restore();
  });

  it("puts each row's result on its own msg and keeps the features and other properties", async () => {
    score.callsFake(async (rows) => rows.map((row) => ({ ok: true, value: (row as number[])[0] * 2 })));
    await helper.load([pythonModel, catchNode], flow);
    const received: Received[] = [];
    const done = new Promise<void>((resolve) =>
      helper.getNode("out").on("input", (msg: Received) => {
        received.push(msg);
        if (received.length === 3) resolve();
      }),
    );
    [1, 2, 3].forEach((value) => helper.getNode("model").receive({ payload: [value, 0], key: `k${value}` }));
    await done;
    assert.deepEqual(
      received.map((msg) => [msg.key, msg.payload, msg.features]),
      [
        ["k1", 2, [1, 0]],
        ["k2", 4, [2, 0]],
        ["k3", 6, [3, 0]],
      ],
    );
    assert.equal(score.callCount, 1, "the three rows went to Python as one batch");
  });

  it("sends a row that failed in Python to Catch with the exception and the original msg", async () => {
    score.callsFake(async (rows) =>
      rows.map((row) => ((row as number[])[0] < 0 ? { ok: false, error: { type: "ValueError", message: "negative" } } : { ok: true, value: 1 })),
    );
    await helper.load([pythonModel, catchNode], flow);
    const error = new Promise<Received>((resolve) => helper.getNode("errors").on("input", resolve));
    const good = new Promise<Received>((resolve) => helper.getNode("out").on("input", resolve));
    helper.getNode("model").receive({ payload: [-1], key: "bad" });
    helper.getNode("model").receive({ payload: [5], key: "good" });
    const caught = await error;
    assert.equal(caught.error?.message, "ValueError: negative");
    assert.deepEqual(caught.payload, [-1]);
    assert.equal(caught.key, "bad");
    assert.equal((await good).key, "good");
  });

  it("scores a batch msg's rows as records: a failing row leaves the batch for Catch and its record is settled alone; the others go on in order", async () => {
    score.callsFake(async (rows) => rows.map((row) => ((row as number[])[0] < 0 ? { ok: false, error: { type: "ValueError", message: "negative" } } : { ok: true, value: (row as number[])[0] * 2 })));
    const settled: string[] = [];
    const unregister = registerSettler("batch-2", (handle, outcome, failure) => settled.push(`${handle.offset} ${outcome}${failure ? `: ${failure.error}` : ""}`));
    await helper.load([pythonModel, catchNode], flow);
    const error = new Promise<Received & { errors: unknown; kafka: { offsets: string[] } }>((resolve) => helper.getNode("errors").on("input", resolve));
    const out = new Promise<Received & { errors: unknown; kafka: { offsets: string[]; keys: string[] } }>((resolve) => helper.getNode("out").on("input", resolve));
    const kafka = { source: "batch-2", topic: "in", partition: 0, offset: "5", lastOffset: "8", offsets: ["5", "6", "7", "8"], keys: ["a", "b", "c", "d"], headers: [{}, {}, {}, {}], timestamps: [1, 2, 3, 4] };
    helper.getNode("model").receive({ payload: [[1], [-1], "not features", [4]], kafka });
    const scored = await out;
    const caught = await error;
    unregister();
    assert.deepEqual(scored.payload, [2, 8]);
    assert.deepEqual(scored.kafka.offsets, ["5", "8"]);
    assert.deepEqual(scored.kafka.keys, ["a", "d"]);
    assert.deepEqual(scored.features, [[1], [4]]);
    assert.deepEqual(
      (scored.errors as { index: number; offset: string }[]).map((row) => [row.index, row.offset]),
      [
        [1, "6"],
        [2, "7"],
      ],
    );
    assert.match(caught.error?.message ?? "", /^2 of 4 rows failed: row 1 \(offset 6\): ValueError: negative; row 2 \(offset 7\): FeatureError: expected the features/);
    assert.deepEqual(caught.payload, [[-1], "not features"]);
    assert.deepEqual(caught.kafka.offsets, ["6", "7"]);
    assert.deepEqual(settled.sort(), ["6 failed: ValueError: negative", "7 failed: FeatureError: expected the features as an array of numbers (or {\"features\": [...]}), got the string \"not features\""]);
  });

  it("refuses a payload without features before it reaches Python", async () => {
    await helper.load([pythonModel, catchNode], flow);
    const error = new Promise<Received>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("model").receive({ payload: "not features" });
    const caught = await error;
    assert.match(caught.error?.message ?? "", /expected the features as an array of numbers/);
    assert.equal(score.callCount, 0);
  });

  it("fails every msg of a batch whose worker died, without stopping the node", async () => {
    score.onFirstCall().rejects(new Error("Python worker 123 exited (signal SIGKILL)"));
    score.callsFake(async (rows) => rows.map(() => ({ ok: true, value: "after restart" })));
    await helper.load([pythonModel, catchNode], flow);
    const caught = new Promise<Received>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("model").receive({ payload: [1] });
    assert.match((await caught).error?.message ?? "", /SIGKILL/);
    const next = new Promise<Received>((resolve) => helper.getNode("out").on("input", resolve));
    helper.getNode("model").receive({ payload: [2] });
    assert.equal((await next).payload, "after restart");
  });

  it("reports a missing model file at deploy and fails messages with that reason", async () => {
    await helper.load([pythonModel, catchNode], flow.map((node) => (node.id === "model" ? { ...node, kind: "keras", modelPath: "" } : node)));
    const caught = new Promise<Received>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("model").receive({ payload: [1] });
    assert.match((await caught).error?.message ?? "", /No model file configured/);
  });

  it("shows records that fail apart from those scored: yellow while some fail, red with the last failure when idle after one, ready once records succeed again and stop", async () => {
    score.callsFake(async (rows) => rows.map((row) => ((row as number[])[0] < 0 ? { ok: false, error: { type: "ValueError", message: "negative" } } : { ok: true, value: 1 })));
    await helper.load([pythonModel, catchNode], flow);
    const mixed = feed((index) => (index % 3 === 0 ? "not features" : [index % 3 === 1 ? 1 : -1]));
    try {
      await waitFor(() => /^\d+ rec\/s, batch [\d.]+, \d+ failed\/s$/.test(statusOf("model")), 10_000, "a rate with failures");
    } finally {
      mixed.stop();
    }
    assert.equal(statusesOf("model").at(-1)?.fill, "yellow");
    // the feed may have stopped after a success, alone in the last second: a success
    // second clears the failure, so the last record fails on purpose
    helper.getNode("model").receive({ payload: [-1] });
    await waitFor(() => /^failed: /.test(statusOf("model")), 10_000, "the last failure once nothing flows");
    assert.equal(statusesOf("model").at(-1)?.fill, "red");
    const good = feed(() => [1]);
    try {
      await waitFor(() => /^\d+ rec\/s, batch [\d.]+$/.test(statusOf("model")), 10_000, "a rate without failures");
    } finally {
      good.stop();
    }
    assert.equal(statusesOf("model").at(-1)?.fill, "green");
    await waitFor(() => statusOf("model") === "ready", 10_000, "ready once nothing flows");
  });

  it("never shows a green rate for records that all fail, whatever failed them", async () => {
    score.callsFake(async (rows) => {
      if (rows.some((row) => (row as number[])[0] === 0)) throw new BatchTimeoutError(1000, 1);
      return rows.map(() => ({ ok: false, error: { type: "WorkerCrash", message: "the Python worker died each time it scored this record" } }));
    });
    await helper.load([pythonModel, catchNode], flow);
    const failing = feed((index) => [[0], [7], "not features"][index % 3]);
    try {
      await waitFor(() => /^\d+ failed\/s: /.test(statusOf("model")), 10_000, "a rate of failures alone");
    } finally {
      failing.stop();
    }
    assert.equal(statusesOf("model").at(-1)?.fill, "red");
    assert.deepEqual(
      statusesOf("model").filter((status) => /rec\/s/.test(status.text ?? "")),
      [],
    );
  });

  it("holds records that arrive before the model has loaded and checks them against its shape and names, as later ones", async () => {
    loadsAtStart = false;
    modelInfo = { ...LOADED, input_shape: [4], feature_names: ["a", "b", "c", "d"] };
    score.callsFake(async (rows) => rows.map((row) => ({ ok: true, value: row })));
    await helper.load([pythonModel, catchNode], flow);
    const outputs: Received[] = [];
    const errors: Received[] = [];
    helper.getNode("out").on("input", (msg: Received) => outputs.push(msg));
    helper.getNode("errors").on("input", (msg: Received) => errors.push(msg));
    const payloads = [[1, 2, 3], { d: 4, c: 3, b: 2, a: 1 }, [5, 6, 7, 8]];
    payloads.forEach((payload, index) => helper.getNode("model").receive({ payload, key: `before-${index}` }));
    assert.equal(score.callCount, 0, "nothing reaches Python before the model has loaded");
    modelLoads(startedPool());
    payloads.forEach((payload, index) => helper.getNode("model").receive({ payload, key: `after-${index}` }));
    await waitFor(() => outputs.length === 4 && errors.length === 2, 10_000, "four results and two errors");
    assert.deepEqual(
      errors.map((msg) => [msg.key, msg.error?.message]),
      [
        ["before-0", "FeatureError: expected 4 features, got 3"],
        ["after-0", "FeatureError: expected 4 features, got 3"],
      ],
    );
    assert.deepEqual(
      outputs.map((msg) => [msg.key, msg.payload]),
      [
        ["before-1", [1, 2, 3, 4]],
        ["before-2", [5, 6, 7, 8]],
        ["after-1", [1, 2, 3, 4]],
        ["after-2", [5, 6, 7, 8]],
      ],
    );
  });

  it("fails the records that waited with the not-ready error, as later ones, when the model never loads", async () => {
    loadsAtStart = false;
    const cause = new Error("model file not found: /models/gone.keras");
    score.rejects(new ModelNotReadyError(cause)); // what the pool gives once no worker can load the model
    await helper.load([pythonModel, catchNode], flow);
    const errors: Received[] = [];
    helper.getNode("errors").on("input", (msg: Received) => errors.push(msg));
    helper.getNode("model").receive({ payload: [1], key: "before" });
    announce(startedPool(), "failed", { error: cause });
    helper.getNode("model").receive({ payload: [1], key: "after" });
    await waitFor(() => errors.length === 2, 10_000, "two errors");
    assert.deepEqual(
      errors.map((msg) => [msg.key, msg.error?.message]),
      [
        ["before", "ModelNotReadyError: the model is not loaded: model file not found: /models/gone.keras"],
        ["after", "ModelNotReadyError: the model is not loaded: model file not found: /models/gone.keras"],
      ],
    );
  });

  it("holds at most 10,000 records while the model loads: the next one fails at once, the held ones are scored once it has loaded", async () => {
    loadsAtStart = false;
    score.callsFake(async (rows) => rows.map(() => ({ ok: true, value: 1 })));
    await helper.load([pythonModel, catchNode], flow);
    let scored = 0;
    helper.getNode("out").on("input", () => scored++);
    const caught = new Promise<Received>((resolve) => helper.getNode("errors").on("input", resolve));
    for (let index = 0; index <= 10_000; index++) helper.getNode("model").receive({ payload: [index], key: index });
    const error = await caught;
    assert.equal(error.key, 10_000);
    assert.equal(error.error?.message, "QueueFullError: more than 10000 records are waiting to be scored");
    modelLoads(startedPool());
    await waitFor(() => scored === 10_000, 30_000, "the held records scored");
  });

  it("refuses a relative model path found nowhere at deploy, naming the places it looked", async () => {
    await helper.load([pythonModel, catchNode], flow.map((node) => (node.id === "model" ? { ...node, kind: "keras", modelPath: "models/missing.keras" } : node)));
    const expected = `Model file not found: models/missing.keras (looked in ${path.join(PACKAGE_ROOT, "models", "missing.keras")})`;
    assert.equal(statusOf("model"), expected);
    const caught = new Promise<Received>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("model").receive({ payload: [1] });
    assert.equal((await caught).error?.message, `Error: Model is not loaded: ${expected}`);
  });

  it("reports features nested 10,000 levels deep to Catch with the msg's plain properties, without stopping Node-RED", async () => {
    await helper.load([pythonModel, catchNode], flow);
    const caught = new Promise<Received>((resolve) => helper.getNode("errors").on("input", resolve));
    const deep = JSON.parse("[".repeat(10_000) + "1" + "]".repeat(10_000)) as unknown;
    helper.getNode("model").receive({ payload: deep, key: "k" });
    const report = await caught;
    assert.match(report.error?.message ?? "", /FeatureError: features are nested more than 32 levels deep .*Catch gets its plain properties only/);
    assert.equal(report.key, "k");
    assert.equal(report.payload, "(not copied: nested too deeply)");
    assert.equal(score.callCount, 0);
  });
});

