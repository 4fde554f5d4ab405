import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { modelLoads } from "../../src/python/load-limiter";
import { checkModel } from "../../src/python/model-check";
import { handlerConfig } from "../../src/python/model-kinds";
import { catchNode, helper, pythonModel, statusFill, statusOf, waitForStatus } from "../support/node-red-helper";
import { PYTHON, waitFor, workersOf } from "../support/python";

const H2O = path.join(PACKAGE_ROOT, "models", "h2o");
const GBM = path.join(H2O, "breast_cancer_gbm.zip");
const GLM = path.join(H2O, "diabetes_glm.zip");
type Row = Record<string, number | string | null>;
const HOLDOUT = JSON.parse(fs.readFileSync(path.join(H2O, "holdout.json"), "utf8")) as Record<string, { rows: Row[] }>;
const GBM_ROWS = HOLDOUT["breast_cancer_gbm.zip"].rows;
const GLM_ROWS = HOLDOUT["diabetes_glm.zip"].rows;

/** What H2O's own in-cluster predict says of a MOJO's holdout rows (models/h2o/h2o_predict.py starts a local H2O). */
type H2oPrediction = { label: string; probabilities: Record<string, number> } | { value: number };
function h2oPredictions(mojo: string): H2oPrediction[] {
  const out = execFileSync(PYTHON, [path.join(H2O, "h2o_predict.py"), mojo, path.join(H2O, "holdout.json")], { stdio: "pipe", timeout: 180_000 });
  return JSON.parse(out.toString().trim().split("\n").pop() ?? "") as H2oPrediction[];
}

function modelFlow(model: Record<string, unknown>) {
  return [
    { id: "f1", type: "tab" },
    { id: "model", type: "python-model", z: "f1", python: PYTHON, kind: "h2o", batchSize: 64, maxWaitMs: 2, timeoutMs: 30000, wires: [["out"]], ...model },
    { id: "out", type: "helper", z: "f1" },
    { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper", z: "f1" },
  ];
}

interface Ended {
  outputs: Map<number, unknown>;
  errors: Map<number, string>;
}

/** Everything that reaches the output and Catch from now on, by the msg's index. */
function watch(): Ended {
  const ended: Ended = { outputs: new Map(), errors: new Map() };
  helper.getNode("out").on("input", (msg: { index: number; payload: unknown }) => ended.outputs.set(msg.index, msg.payload));
  helper.getNode("errors").on("input", (msg: { index: number; error: { message: string } }) => ended.errors.set(msg.index, msg.error.message));
  return ended;
}

async function scoreAll(payloads: unknown[]): Promise<Ended> {
  const ended = watch();
  payloads.forEach((payload, index) => helper.getNode("model").receive({ payload, index }));
  await waitFor(() => ended.outputs.size + ended.errors.size === payloads.length, 60_000, `${payloads.length} records to end`);
  return ended;
}

async function loaded(): Promise<void> {
  await waitForStatus("model", /^ready$/, 120_000, "the MOJO loaded");
}

/** python-model with H2O MOJOs (models/h2o) scored by h2o-genmodel in the worker's JVM, against H2O's own predict. */
describe("python-model node with H2O MOJO models (real Python, real JVM, real H2O)", function () {
  this.timeout(300_000);
  let gbmExpected: H2oPrediction[];
  let glmExpected: H2oPrediction[];

  before(() => {
    gbmExpected = h2oPredictions(GBM);
    glmExpected = h2oPredictions(GLM);
  });

  afterEach(async () => {
    await helper.unload();
  });

  it("scores the GBM classifier as H2O's predict does (within 1e-6): the label by H2O's threshold, the probabilities, unknown and missing levels as NA", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: GBM }));
    await loaded();
    const ended = await scoreAll(GBM_ROWS);
    assert.equal(ended.errors.size, 0, [...ended.errors.values()].join("; "));
    GBM_ROWS.forEach((_row, index) => {
      const scored = ended.outputs.get(index) as { label: string; score: number; probabilities: number[]; threshold: number };
      const expected = gbmExpected[index] as { label: string; probabilities: Record<string, number> };
      assert.equal(scored.label, expected.label, `row ${index}`);
      Object.values(expected.probabilities).forEach((probability, column) => {
        assert.ok(Math.abs(scored.probabilities[column] - probability) <= 1e-6, `row ${index}: ${scored.probabilities[column]} against H2O's ${probability}`);
      });
      assert.equal(scored.score, scored.probabilities[Object.keys(expected.probabilities).indexOf(scored.label)]);
      assert.ok(scored.threshold > 0 && scored.threshold < 1);
    });
    assert.ok(GBM_ROWS.some((row) => row.size === null) && GBM_ROWS.some((row) => typeof row.size === "string" && !["small", "medium", "large"].includes(row.size)), "the holdout has a missing and an unknown level");
  });

  it("scores the GLM regressor as H2O's predict does (within 1e-6), from objects of named columns and from arrays in the model's column order", async () => {
    const info = await checkModel({ python: PYTHON, kind: "h2o", modelPath: GLM, handlerPath: "", config: handlerConfig("h2o", { maxBatch: 64 }), timeoutMs: 120_000 }, 120_000, modelLoads());
    const columns = info.feature_names ?? [];
    assert.ok(columns.includes("sex") && columns.includes("bmi"), `columns ${columns.join(", ")}`);
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: GLM }));
    await loaded();
    const asObjects = await scoreAll(GLM_ROWS);
    helper.getNode("out").removeAllListeners("input");
    helper.getNode("errors").removeAllListeners("input");
    const asArrays = await scoreAll(GLM_ROWS.map((row) => columns.map((name) => row[name] ?? null)));
    for (const ended of [asObjects, asArrays]) {
      assert.equal(ended.errors.size, 0, [...ended.errors.values()].join("; "));
      GLM_ROWS.forEach((_row, index) => {
        const value = ended.outputs.get(index) as number;
        const expected = (glmExpected[index] as { value: number }).value;
        assert.ok(Math.abs(value - expected) <= 1e-6, `row ${index}: ${value} against H2O's ${expected}`);
      });
    }
  });

  it("fails only the record with an unknown level when unknown levels fail, naming the column and the level; the others are scored", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: GBM, unknownLevels: "fail" }));
    await loaded();
    const ended = await scoreAll([GBM_ROWS[0], { ...GBM_ROWS[1], size: "enormous" }, GBM_ROWS[2]]);
    assert.deepEqual([...ended.outputs.keys()].sort(), [0, 2]);
    assert.match(ended.errors.get(1) ?? "", /unknown level 'enormous' in the categorical column 'size'/);
  });

  it("refuses a damaged MOJO at deploy with a clear reason, in a red status", async () => {
    const damaged = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "h2o-mojo-")), "damaged.zip");
    fs.writeFileSync(damaged, fs.readFileSync(GBM).subarray(0, 2000));
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: damaged }));
    await waitFor(() => statusFill("model") === "red", 60_000, "a red status");
    assert.match(statusOf("model"), /damaged\.zip/);
  });

  it("loses nothing when its worker (and the JVM in it) is killed mid-stream, and leaves no process when closed", async () => {
    await helper.load([pythonModel, catchNode], modelFlow({ modelPath: GBM, batchSize: 4, maxWaitMs: 0 }));
    await loaded();
    const ended = watch();
    const total = 4000;
    let sent = 0;
    const feed = setInterval(() => {
      for (let step = 0; step < 20 && sent < total; step++, sent++) helper.getNode("model").receive({ payload: GBM_ROWS[sent % 20], index: sent });
      if (sent >= total) clearInterval(feed);
    }, 5);
    await waitFor(() => ended.outputs.size > 200, 30_000, "scoring under way");
    const killed = workersOf();
    assert.equal(killed.length, 1);
    process.kill(killed[0], "SIGKILL");
    await waitFor(() => ended.outputs.size + ended.errors.size === total, 120_000, "every record to end");
    assert.equal(ended.errors.size, 0, "the batches in flight were retried on the restarted worker");
    assert.match(statusOf("model"), /1 restarts/);
    const [restarted] = workersOf();
    assert.notEqual(restarted, killed[0]);
    await helper.unload();
    await waitFor(() => workersOf().length === 0, 10_000, "no worker left");
  });
});
