import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { catchNode, helper, pythonModel, statusFill, statusOf, waitForStatus } from "../support/node-red-helper";
import { HOLDOUT, PYTHON } from "../support/python";

const IRIS = path.join(PACKAGE_ROOT, "models", "iris");
const SUPPORT = path.join(PACKAGE_ROOT, "test", "support");
const ROWS = HOLDOUT.map((row) => row.features);

interface Scored {
  payload: unknown;
  index: number;
}

function modelFlow(model: Record<string, unknown>) {
  return [
    { id: "f1", type: "tab" },
    { id: "model", type: "python-model", z: "f1", python: PYTHON, kind: "onnx", batchSize: 32, maxWaitMs: 2, timeoutMs: 30000, wires: [["out"]], ...model },
    { id: "out", type: "helper", z: "f1" },
    { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper", z: "f1" },
  ];
}

/** Sends every holdout row through the node (as `payloadOf` makes it); the results in row order. */
async function scoreHoldout(payloadOf: (row: number[]) => unknown = (row) => row): Promise<unknown[]> {
  const results: unknown[] = new Array(ROWS.length);
  let received = 0;
  const all = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received} of ${ROWS.length} rows scored`)), 60_000);
    helper.getNode("out").on("input", (msg: Scored) => {
      results[msg.index] = msg.payload;
      if (++received === ROWS.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    helper.getNode("errors").on("input", (msg: { error: { message: string } }) => reject(new Error(msg.error.message)));
  });
  ROWS.forEach((row, index) => helper.getNode("model").receive({ payload: payloadOf(row), index }));
  await all;
  return results;
}

/** The original model's answer for the holdout rows, from its own library in Python. */
function reference(kind: "keras" | "sklearn" | "sklearn-labels", file: string): unknown[] {
  const out = execFileSync(PYTHON, [path.join(SUPPORT, "reference_predictions.py"), kind, file], { input: JSON.stringify(ROWS), stdio: "pipe" });
  return JSON.parse(out.toString()) as unknown[];
}

function assertClose(actual: number[][], expected: number[][], tolerance: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, index) => {
    row.forEach((value, column) => {
      const difference = Math.abs(value - expected[index][column]);
      assert.ok(difference <= tolerance, `row ${index} class ${column}: ${value} against ${expected[index][column]} (${difference})`);
    });
  });
}

type Labelled = { label: string; score: number; probabilities: number[] };

/** python-model with ONNX exports of the iris models (models/iris/export_onnx.py), in a real Python with onnxruntime. */
describe("python-model node with ONNX models (real Python, onnxruntime)", function () {
  this.timeout(180_000);
  let scratch: string;

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "onnx-models-"));
  });

  after(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  afterEach(async () => {
    await helper.unload();
  });

  it("scores the Keras iris model exported by tf2onnx as Keras does (within 1e-5), with its sidecar's labels", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: path.join(IRIS, "iris_mlp.onnx") }));
    await waitForStatus("model", /^ready$/, 120_000, "the ONNX model loaded");
    const results = (await scoreHoldout()) as Labelled[];
    const expected = reference("keras", path.join(IRIS, "iris_mlp.keras")) as number[][];
    assertClose(
      results.map((result) => result.probabilities),
      expected,
      1e-5,
    );
    const species = ["setosa", "versicolor", "virginica"];
    assert.deepEqual(
      results.map((result) => result.label),
      expected.map((row) => species[row.indexOf(Math.max(...row))]),
    );
  });

  for (const [file, form] of [
    ["iris_logreg.onnx", "a ZipMap list of maps"],
    ["iris_logreg_tensor.onnx", "a plain tensor"],
  ]) {
    it(`scores the scikit-learn pipeline exported by skl2onnx, probabilities as ${form}, as predict_proba does (within 1e-5)`, async () => {
      await helper.load([pythonModel, catchNode], modelFlow({ modelPath: path.join(IRIS, file) }));
      await waitForStatus("model", /^ready$/, 120_000, "the ONNX model loaded");
      const results = (await scoreHoldout()) as Labelled[];
      assertClose(
        results.map((result) => result.probabilities),
        reference("sklearn", path.join(IRIS, "iris_logreg.joblib")) as number[][],
        1e-5,
      );
      assert.deepEqual(
        results.map((result) => result.label),
        reference("sklearn-labels", path.join(IRIS, "iris_logreg.joblib")),
      );
    });
  }

  it("takes features by name for a model with an input per feature (skl2onnx, one type per column), equal to predict_proba", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: path.join(IRIS, "iris_logreg_columns.onnx") }));
    await waitForStatus("model", /^ready$/, 120_000, "the ONNX model loaded");
    const names = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"];
    const results = (await scoreHoldout((row) => Object.fromEntries([...names].reverse().map((name) => [name, row[names.indexOf(name)]])))) as Labelled[];
    assertClose(
      results.map((result) => result.probabilities),
      reference("sklearn", path.join(IRIS, "iris_logreg.joblib")) as number[][],
      1e-5,
    );
  });

  it("gives the output named in the dialog: skl2onnx's label output, each record's class as predict gives it", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: path.join(IRIS, "iris_logreg.onnx"), onnxOutput: "output_label" }));
    await waitForStatus("model", /^ready$/, 120_000, "the ONNX model loaded");
    assert.deepEqual(await scoreHoldout(), reference("sklearn-labels", path.join(IRIS, "iris_logreg.joblib")));
  });

  it("scores a model whose batch is fixed at 1 row by row, says so in its status, and gives the same results", async () => {
    const fixed = path.join(scratch, "iris_mlp_batch1.onnx");
    execFileSync(PYTHON, [path.join(SUPPORT, "fixed_batch_onnx.py"), path.join(IRIS, "iris_mlp.onnx"), fixed]);
    fs.copyFileSync(path.join(IRIS, "iris_mlp.meta.json"), path.join(scratch, "iris_mlp_batch1.meta.json"));
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: fixed }));
    await waitForStatus("model", /^ready \(row by row: the model's batch is fixed at 1\)$/, 120_000, "the fixed-batch model loaded");
    const results = (await scoreHoldout()) as Labelled[];
    assertClose(
      results.map((result) => result.probabilities),
      reference("keras", path.join(IRIS, "iris_mlp.keras")) as number[][],
      1e-5,
    );
  });

  it("refuses features of the wrong shape with the same clear error as the other kinds, and goes on", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: path.join(IRIS, "iris_mlp.onnx") }));
    await waitForStatus("model", /^ready$/, 120_000, "the ONNX model loaded");
    const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("model").receive({ payload: [5.1, 3.5, 1.4] });
    assert.match((await caught).error.message, /FeatureError: expected 4 features, got 3/);
    const scored = new Promise<{ payload: Labelled }>((resolve) => helper.getNode("out").on("input", resolve));
    helper.getNode("model").receive({ payload: [5.1, 3.5, 1.4, 0.2] });
    assert.equal((await scored).payload.label, "setosa");
  });

  it("reports a file that is not an ONNX model, and an output the model does not have, at deploy", async () => {
    const corrupt = path.join(scratch, "corrupt.onnx");
    fs.writeFileSync(corrupt, "not a model");
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: corrupt }));
    await waitForStatus("model", /is not an ONNX model onnxruntime can load/, 60_000, "the load error");
    assert.equal(statusFill("model"), "red");
    await helper.unload();
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: path.join(IRIS, "iris_logreg.onnx"), onnxOutput: "scores" }));
    await waitForStatus("model", /the model has no output 'scores'; its outputs are output_label, output_probability/, 60_000, "the output error");
    assert.equal(statusFill("model"), "red", statusOf("model"));
  });
});
