import * as assert from "node:assert/strict";
import type { SinonSpy } from "sinon";
import { catchNode, helper, loggedBy, pythonModel, statusOf, statusesOf } from "../support/node-red-helper";
import { HOLDOUT, IRIS_MODEL, PETAL_RULES, PYTHON, waitFor, workersOf, writeHandler } from "../support/python";

interface Scored {
  payload: { label: string; score: number; probabilities: number[] };
  key: string;
  features: number[];
  error?: { message: string };
}

function modelFlow(model: Record<string, unknown>) {
  return [
    { id: "f1", type: "tab" },
    { id: "model", type: "python-model", z: "f1", python: PYTHON, batchSize: 32, maxWaitMs: 2, timeoutMs: 30000, wires: [["out"]], ...model },
    { id: "out", type: "helper", z: "f1" },
    { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper", z: "f1" },
  ];
}

function collect<T>(nodeId: string, count: number, timeoutMs = 60_000): Promise<T[]> {
  const received: T[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} msgs reached ${nodeId}`)), timeoutMs);
    helper.getNode(nodeId).on("input", (msg: T) => {
      received.push(msg);
      if (received.length === count) {
        clearTimeout(timer);
        resolve(received);
      }
    });
  });
}

async function statusText(nodeId: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  await waitFor(() => pattern.test(statusOf(nodeId)), timeoutMs, `status matching ${pattern}`);
}

/** python-model with the real Keras demo model in a real Python process. */
describe("python-model node with the Keras iris model (real Python)", function () {
  this.timeout(180_000);

  afterEach(async () => {
    await helper.unload();
  });

  it("reports ready only once the model is loaded, then scores a known flower correctly", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "keras", modelPath: IRIS_MODEL, backend: "tensorflow" }));
    await statusText("model", /^ready/, 120_000);
    const out = collect<Scored>("out", 1);
    helper.getNode("model").receive({ payload: [5.1, 3.5, 1.4, 0.2], key: "setosa-sample" });
    const [scored] = await out;
    assert.equal(scored.payload.label, "setosa");
    assert.ok(scored.payload.score > 0.9, `setosa scored ${scored.payload.score}`);
    assert.equal(scored.payload.probabilities.length, 3);
    assert.equal(scored.key, "setosa-sample");
  });

  it("keeps every result on its own msg with many messages in flight, sent before the model is ready", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "keras", modelPath: IRIS_MODEL, backend: "jax" }));
    const copies = 20;
    const rows = Array.from({ length: copies }, () => HOLDOUT).flat();
    const out = collect<Scored>("out", rows.length);
    rows.forEach((row, index) => helper.getNode("model").receive({ payload: { features: row.features }, key: String(index) }));
    const scored = await out;
    for (const msg of scored) assert.deepEqual(msg.features, rows[Number(msg.key)].features);
    // the same flower gets the same label whichever batch carried it
    const labelsByRow = new Map<number, Set<string>>();
    for (const msg of scored) {
      const row = Number(msg.key) % HOLDOUT.length;
      labelsByRow.set(row, (labelsByRow.get(row) ?? new Set()).add(msg.payload.label));
    }
    assert.ok([...labelsByRow.values()].every((labels) => labels.size === 1));
    const correct = [...labelsByRow].filter(([row, labels]) => labels.has(HOLDOUT[row].label)).length;
    assert.ok(correct / HOLDOUT.length >= 0.9, `held-out accuracy ${correct}/${HOLDOUT.length}`);
  });

  it("logs TensorFlow's start-up lines at debug level, not as warnings or errors", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "keras", modelPath: IRIS_MODEL, backend: "tensorflow" }));
    await statusText("model", /^ready/, 120_000);
    await waitFor(() => loggedBy("model").some((entry) => /oneDNN custom operations are on/.test(entry.msg)), 10_000, "TensorFlow's oneDNN line");
    const python = loggedBy("model").filter((entry) => entry.msg.startsWith("[python]"));
    assert.deepEqual(
      python.filter((entry) => /absl::InitializeLog|oneDNN custom operations/.test(entry.msg)).map((entry) => entry.level),
      python.filter((entry) => /absl::InitializeLog|oneDNN custom operations/.test(entry.msg)).map(() => "debug"),
    );
    assert.deepEqual(
      python.filter((entry) => entry.level === "warn" || entry.level === "error"),
      [],
    );
  });

  it("gives records sent before the model has loaded the same errors as records sent after, in order", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "keras", modelPath: IRIS_MODEL, backend: "jax" }));
    const payloads = [[5.1, 3.5, 1.4], { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 }, { sepal_length_cm: 6.7 }, [5.1, 3.5, 1.4, 0.2]];
    const errors = collect<Scored>("errors", 4);
    const out = collect<Scored>("out", 4);
    assert.equal(statusOf("model"), "loading model");
    payloads.forEach((payload, index) => helper.getNode("model").receive({ payload, key: `before-${index}` }));
    // "ready" shows for up to a second before the records that waited turn it into a rate:
    // a busy machine's polling can miss it, so every status shown counts
    await waitFor(() => statusesOf("model").some((status) => /^ready/.test(status.text ?? "")), 120_000, "a ready status");
    payloads.forEach((payload, index) => helper.getNode("model").receive({ payload, key: `after-${index}` }));
    const caught = await errors;
    const sidecarNames = "sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm";
    assert.deepEqual(
      caught.map((msg) => [msg.key, msg.error?.message]),
      [
        ["before-0", "FeatureError: expected 4 features, got 3"],
        ["before-2", `FeatureError: missing feature sepal_width_cm, petal_length_cm, petal_width_cm (the model takes ${sidecarNames})`],
        ["after-0", "FeatureError: expected 4 features, got 3"],
        ["after-2", `FeatureError: missing feature sepal_width_cm, petal_length_cm, petal_width_cm (the model takes ${sidecarNames})`],
      ],
    );
    assert.deepEqual(
      (await out).map((msg) => [msg.key, msg.payload.label]),
      [
        ["before-1", "virginica"],
        ["before-3", "setosa"],
        ["after-1", "virginica"],
        ["after-3", "setosa"],
      ],
    );
  });

  it("sends a record with the wrong number of features to Catch with the original msg and goes on scoring", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "keras", modelPath: IRIS_MODEL, backend: "jax" }));
    await statusText("model", /^ready/, 120_000);
    const errors = collect<Scored>("errors", 1);
    const out = collect<Scored>("out", 1);
    helper.getNode("model").receive({ payload: [5.1, 3.5, 1.4], key: "short" });
    helper.getNode("model").receive({ payload: [6.7, 3.0, 5.2, 2.3], key: "good" });
    const [caught] = await errors;
    assert.match(caught.error?.message ?? "", /expected 4 features, got 3/);
    assert.equal(caught.key, "short");
    assert.deepEqual(caught.payload, [5.1, 3.5, 1.4]);
    assert.equal((await out)[0].payload.label, "virginica");
  });

  it("fails only the rows a handler raises for, with the Python exception, and scores the rest of the batch", async () => {
    const picky = writeHandler(
      "picky",
      `
def load(path, config):
    return None

def predict(model, batch):
    for row in batch:
        if row[0] < 0:
            raise ArithmeticError(f"cannot score negative {row[0]}")
    return [sum(row) for row in batch]
`,
    );
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "python", handlerPath: picky }));
    await statusText("model", /^ready/, 60_000);
    const out = collect<Scored>("out", 4);
    const errors = collect<Scored>("errors", 1);
    [[1, 1], [2, 2], [-3, 3], [4, 4], [5, 5]].forEach((payload, index) => helper.getNode("model").receive({ payload, key: String(index) }));
    const [caught] = await errors;
    assert.equal(caught.error?.message, "ArithmeticError: cannot score negative -3");
    assert.equal(caught.key, "2");
    assert.deepEqual((await out).map((msg) => [msg.key, msg.payload]), [["0", 2], ["1", 4], ["3", 8], ["4", 10]]);
  });

  it("restarts a Python process that dies, says so in status and in the log, and scores again", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "python", handlerPath: PETAL_RULES }));
    await statusText("model", /^ready/, 60_000);
    const workers = workersOf();
    assert.equal(workers.length, 1);
    process.kill(workers[0], "SIGKILL");
    await statusText("model", /restarting/, 10_000);
    await statusText("model", /^ready · 1 restarts/, 30_000);
    const warnings = (helper.getNode("model").warn as unknown as SinonSpy).getCalls().map((call) => String(call.args[0]));
    assert.deepEqual(warnings, [`Python worker ${workers[0]} exited (signal SIGKILL); starting a new worker`], "the log says why it restarted");
    const out = collect<Scored>("out", 1);
    helper.getNode("model").receive({ payload: [6.0, 2.2, 5.0, 1.5] });
    assert.equal((await out)[0].payload.label, "versicolor");
  });

  it("leaves no Python process behind when the flow is stopped", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "python", handlerPath: PETAL_RULES }));
    await statusText("model", /^ready/, 60_000);
    assert.ok(workersOf().length > 0);
    await helper.unload();
    assert.deepEqual(workersOf(), []);
  });

  it("says exactly what is missing when the environment lacks a package", async () => {
    const needsTorch = writeHandler("needs_pkg", "import package_that_is_not_installed\ndef load(p, c): pass\ndef predict(m, b): return b\n");
    await helper.load([pythonModel, catchNode], modelFlow({ kind: "python", handlerPath: needsTorch }));
    await statusText("model", /package_that_is_not_installed is not installed in/, 60_000);
    const errors = collect<Scored>("errors", 1);
    helper.getNode("model").receive({ payload: [1] });
    assert.match((await errors)[0].error?.message ?? "", /package_that_is_not_installed is not installed/);
  });
});
