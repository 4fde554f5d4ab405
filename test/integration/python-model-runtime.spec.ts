import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { startNodeRed, type NodeRedProcess } from "../../scripts/lib/node-red-process";
import { catchNode, helper, loggedBy, pythonModel, statusOf, statusesOf } from "../support/node-red-helper";
import { IRIS_MODEL, PETAL_RULES, PYTHON, childrenOf, isRunning, waitFor, workersOf, writeHandler } from "../support/python";

interface Out {
  payload: unknown;
  key?: string;
  seq?: number;
  timing?: { queuedMs: number; scoringMs: number; batchSize: number };
  result?: unknown;
  error?: { message: string };
}

function flow(model: Record<string, unknown>) {
  return [
    { id: "f1", type: "tab" },
    { id: "model", type: "python-model", z: "f1", python: PYTHON, kind: "python", batchSize: 16, maxWaitMs: 2, timeoutMs: 30000, wires: [["out"]], ...model },
    { id: "out", type: "helper", z: "f1" },
    { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper", z: "f1" },
  ];
}

/** Everything that reaches the output and the Catch node from now on. */
function record(): { outputs: Out[]; errors: Out[] } {
  const seen = { outputs: [] as Out[], errors: [] as Out[] };
  helper.getNode("out").on("input", (msg: Out) => seen.outputs.push(msg));
  helper.getNode("errors").on("input", (msg: Out) => seen.errors.push(msg));
  return seen;
}

async function ready(): Promise<void> {
  await waitFor(() => /^ready/.test(statusOf("model")), 120_000, "the model to be ready");
}

function send(count: number, payload: (index: number) => unknown): void {
  for (let index = 0; index < count; index++) helper.getNode("model").receive({ payload: payload(index), seq: index });
}

/** Fits a scikit-learn estimator on iris (`fit` is Python with `iris` in scope) and saves it with joblib. */
function saveSklearnModel(name: string, imports: string, fit: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sklearn-model-")), `${name}.joblib`);
  const script = ["import sys, joblib", "from sklearn.datasets import load_iris", imports, "iris = load_iris()", `joblib.dump(${fit}, sys.argv[1])`].join("\n");
  execFileSync(PYTHON, ["-c", script, file]);
  return file;
}

/** A classifier with the species names as labels. */
function trainSklearnModel(): string {
  return saveSklearnModel(
    "iris_logreg",
    "from sklearn.linear_model import LogisticRegression",
    "LogisticRegression(max_iter=1000).fit(iris.data, iris.target_names[iris.target])",
  );
}

/** Feeds the model node a msg every few ms until stopped. */
function feed(payload: (index: number) => unknown): { stop: () => void } {
  let index = 0;
  const timer = setInterval(() => helper.getNode("model").receive({ payload: payload(index++) }), 5);
  return { stop: () => clearInterval(timer) };
}

/** Another Node-RED on the machine, as `npm start` runs beside the tests, scoring with a Python worker of its own. */
async function startNeighbour(): Promise<{ nodeRed: NodeRedProcess; worker: number }> {
  const flows = [
    { id: "neighbour", type: "tab" },
    { id: "neighbour-model", type: "python-model", z: "neighbour", python: PYTHON, kind: "python", handlerPath: PETAL_RULES, wires: [] },
  ];
  const nodeRed = await startNodeRed({ userDir: fs.mkdtempSync(path.join(os.tmpdir(), "node-red-neighbour-")), port: await freePort(), flows });
  await waitFor(() => /model loaded by Python/.test(nodeRed.log()), 60_000, "the other Node-RED's model to load");
  // Node-RED renames its process, so find it as the child of the shell that watches it
  const runtime = childrenOf(nodeRed.pid as number).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("node-red"));
  const [worker] = runtime.flatMap((pid) => workersOf(pid));
  assert.ok(worker, "the other Node-RED runs a Python worker");
  return { nodeRed, worker };
}

/** The python-model runtime's capabilities, each against a real Python. */
describe("python-model runtime (real Python)", function () {
  this.timeout(180_000);
  afterEach(async () => {
    await helper.unload();
  });

  describe("model kinds", () => {
    it("scores a scikit-learn model with predict_proba as label and score, and with predict as the label", async () => {
      const model = trainSklearnModel();
      await helper.load([pythonModel, catchNode], flow({ kind: "sklearn", modelPath: model, method: "predict_proba" }));
      await ready();
      const seen = record();
      helper.getNode("model").receive({ payload: [6.7, 3.0, 5.2, 2.3] });
      await waitFor(() => seen.outputs.length === 1, 10_000, "a prediction");
      const prediction = seen.outputs[0].payload as { label: string; score: number; probabilities: number[] };
      assert.equal(prediction.label, "virginica");
      assert.equal(prediction.probabilities.length, 3);
      await helper.unload();

      await helper.load([pythonModel, catchNode], flow({ kind: "sklearn", modelPath: model, method: "predict" }));
      await ready();
      const labels = record();
      helper.getNode("model").receive({ payload: [5.0, 3.4, 1.5, 0.2] });
      await waitFor(() => labels.outputs.length === 1, 10_000, "a label");
      assert.equal(labels.outputs[0].payload, "setosa");
    });

    it("loads a legacy .h5 Keras file", async () => {
      const h5 = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keras-h5-")), "iris.h5");
      execFileSync(PYTHON, ["-c", "import sys, keras; keras.saving.load_model(sys.argv[1]).save(sys.argv[2])", IRIS_MODEL, h5], {
        env: { ...process.env, KERAS_BACKEND: "jax" },
        stdio: "ignore",
      });
      await helper.load([pythonModel, catchNode], flow({ kind: "keras", modelPath: h5, backend: "jax", output: "raw" }));
      await ready();
      const seen = record();
      helper.getNode("model").receive({ payload: [5.0, 3.4, 1.5, 0.2] });
      await waitFor(() => seen.outputs.length === 1, 10_000, "a prediction");
      const probabilities = seen.outputs[0].payload as number[];
      assert.equal(probabilities.length, 3);
      assert.ok(probabilities[0] > 0.9, `setosa probability ${probabilities[0]}`);
    });

    it("refuses output 'label' at load for a Keras model without labels, or with fewer labels than outputs", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keras-unlabelled-"));
      const model = path.join(dir, "iris.keras");
      fs.copyFileSync(IRIS_MODEL, model);
      await helper.load([pythonModel, catchNode], flow({ kind: "keras", modelPath: model, backend: "jax", output: "label" }));
      const seen = record();
      helper.getNode("model").receive({ payload: [5.0, 3.4, 1.5, 0.2] });
      const sidecar = path.join(dir, "iris.meta.json");
      const noLabels = `output 'label' needs the class labels, as "labels" in the sidecar ${sidecar}, which does not exist`;
      await waitFor(() => statusOf("model") === noLabels, 120_000, "the refusal in status");
      assert.equal(statusesOf("model").at(-1)?.fill, "red");
      await waitFor(() => seen.errors.length === 1, 10_000, "the waiting record to fail");
      assert.equal(seen.errors[0].error?.message, `ModelNotReadyError: the model is not loaded: ${noLabels}`);
      await helper.unload();

      fs.writeFileSync(sidecar, JSON.stringify({ labels: ["setosa", "versicolor"] }));
      await helper.load([pythonModel, catchNode], flow({ kind: "keras", modelPath: model, backend: "jax", output: "label" }));
      await waitFor(() => /^output 'label' needs one label per model output/.test(statusOf("model")), 120_000, "the refusal in status");
      assert.equal(statusOf("model"), `output 'label' needs one label per model output: the model gives 3 outputs, the sidecar ${sidecar} names 2 labels`);
    });

    it("takes output 'label' from a scikit-learn classifier's predict_proba, and refuses it with predict at load", async () => {
      const model = trainSklearnModel();
      await helper.load([pythonModel, catchNode], flow({ kind: "sklearn", modelPath: model, method: "predict", output: "label" }));
      await waitFor(() => /^output 'label'/.test(statusOf("model")), 60_000, "the refusal in status");
      assert.equal(statusOf("model"), "output 'label' needs the method predict_proba (a score per class); predict gives each record's class alone");
      assert.equal(statusesOf("model").at(-1)?.fill, "red");
      await helper.unload();

      await helper.load([pythonModel, catchNode], flow({ kind: "sklearn", modelPath: model, method: "predict_proba", output: "label" }));
      await ready();
      const seen = record();
      helper.getNode("model").receive({ payload: [6.7, 3.0, 5.2, 2.3] });
      await waitFor(() => seen.outputs.length === 1, 10_000, "a prediction");
      assert.equal((seen.outputs[0].payload as { label: string }).label, "virginica");
    });

    it("scores a scikit-learn model on the float64 features it is given: results equal its predict() exactly", async () => {
      // a ridge regression on values with ten significant digits, where float32 input changes the predictions
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sklearn-ridge-")), "ridge.joblib");
      const script = [
        "import json, sys, joblib, numpy as np",
        "from sklearn.linear_model import Ridge",
        "rng = np.random.default_rng(11)",
        "x = rng.uniform(1000, 2000, size=(200, 4)) + rng.uniform(0, 1, size=(200, 4))",
        "model = Ridge(alpha=1.0).fit(x, x @ np.array([1.123456789, -2.23456789, 3.3456789, 0.456789]) + 0.1)",
        "joblib.dump(model, sys.argv[1])",
        "rows = rng.uniform(1000, 2000, size=(40, 4)) + rng.uniform(0, 1, size=(40, 4))",
        "print(json.dumps({'rows': rows.tolist(), 'float64': model.predict(rows).tolist(), 'float32': model.predict(rows.astype(np.float32)).tolist()}))",
      ].join("\n");
      const expected = JSON.parse(execFileSync(PYTHON, ["-c", script, file], { encoding: "utf8" })) as { rows: number[][]; float64: number[]; float32: number[] };
      assert.notDeepEqual(expected.float32, expected.float64, "float32 input changes this model's predictions");
      // one batch of exactly these rows (it leaves when full), as predict() was given them: a
      // dot product's last bit may depend on the rows scored with it
      await helper.load([pythonModel, catchNode], flow({ kind: "sklearn", modelPath: file, batchSize: expected.rows.length, maxWaitMs: 10_000, timing: true }));
      const seen = record();
      expected.rows.forEach((row) => helper.getNode("model").receive({ payload: row }));
      await waitFor(() => seen.outputs.length === expected.rows.length, 120_000, "every prediction");
      assert.deepEqual(
        seen.outputs.map((msg) => msg.timing?.batchSize),
        expected.rows.map(() => expected.rows.length),
      );
      assert.deepEqual(
        seen.outputs.map((msg) => msg.payload),
        expected.float64,
      );
    });

    it("says which package a venv lacks when it has no keras", async () => {
      const venv = fs.mkdtempSync(path.join(os.tmpdir(), "bare-venv-"));
      execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
      await helper.load([pythonModel, catchNode], flow({ kind: "keras", modelPath: IRIS_MODEL, python: venv }));
      await waitFor(() => /keras is not installed in/.test(statusOf("model")), 60_000, "the missing package in status");
      assert.match(statusOf("model"), new RegExp(`keras is not installed in ${venv}`));
    });
  });

  describe("input and output mapping", () => {
    it("maps an object of named features into the model's input order, and names a missing one", async () => {
      await helper.load([pythonModel, catchNode], flow({ kind: "keras", modelPath: IRIS_MODEL, backend: "jax" }));
      await ready();
      const seen = record();
      helper.getNode("model").receive({ payload: { petal_width_cm: 2.3, sepal_length_cm: 6.7, petal_length_cm: 5.2, sepal_width_cm: 3.0 } });
      helper.getNode("model").receive({ payload: { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2 } });
      await waitFor(() => seen.outputs.length === 1 && seen.errors.length === 1, 10_000, "one result and one error");
      assert.equal((seen.outputs[0].payload as { label: string }).label, "virginica");
      assert.match(seen.errors[0].error?.message ?? "", /missing feature petal_width_cm/);
    });

    it("reads features from and writes the prediction to chosen properties, as a chosen shape", async () => {
      await helper.load([pythonModel, catchNode], flow({ kind: "keras", modelPath: IRIS_MODEL, backend: "jax", featuresProperty: "data.x", outputProperty: "result", output: "raw" }));
      await ready();
      const seen = record();
      helper.getNode("model").receive({ payload: "kept", data: { x: [5.0, 3.4, 1.5, 0.2] } });
      await waitFor(() => seen.outputs.length === 1, 10_000, "a prediction");
      assert.equal(seen.outputs[0].payload, "kept");
      assert.equal((seen.outputs[0].result as number[]).length, 3);
    });

    it("fails each record with a clear error when the output shape does not fit the model", async () => {
      await helper.load([pythonModel, catchNode], flow({ kind: "keras", modelPath: IRIS_MODEL, backend: "jax", output: "value" }));
      await ready();
      const seen = record();
      send(2, () => [5.0, 3.4, 1.5, 0.2]);
      await waitFor(() => seen.errors.length === 2, 10_000, "two errors");
      assert.match(seen.errors[0].error?.message ?? "", /ValueError: output 'value' needs one number per record, the model gives 3/);
    });

    it("passes nested arrays through for multi-dimensional input", async () => {
      const handler = writeHandler("grid", "def load(p, c):\n    return None\n\ndef predict(m, batch):\n    return [[sum(r) for r in grid] for grid in batch]\n");
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler }));
      await ready();
      const seen = record();
      helper.getNode("model").receive({ payload: [[1, 2], [3, 4]] });
      helper.getNode("model").receive({ payload: [[1, 2], [3]] });
      await waitFor(() => seen.outputs.length === 1 && seen.errors.length === 1, 10_000, "one result and one error");
      assert.deepEqual(seen.outputs[0].payload, [3, 7]);
      assert.match(seen.errors[0].error?.message ?? "", /ragged/);
    });

    it("gives a regression model's prediction as a plain number", async () => {
      const file = saveSklearnModel("petal_width", "from sklearn.linear_model import LinearRegression", "LinearRegression().fit(iris.data[:, :3], iris.data[:, 3])");
      await helper.load([pythonModel, catchNode], flow({ kind: "sklearn", modelPath: file }));
      await ready();
      const seen = record();
      helper.getNode("model").receive({ payload: [6.7, 3.0, 5.2] });
      await waitFor(() => seen.outputs.length === 1, 10_000, "a prediction");
      const width = seen.outputs[0].payload as number;
      assert.equal(typeof width, "number");
      assert.ok(width > 1.5 && width < 2.6, `predicted petal width ${width}`);
    });

    it("adds timing to the msg when asked", async () => {
      const handler = writeHandler("sum", "def load(p, c):\n    return None\n\ndef predict(m, batch):\n    return [sum(row) for row in batch]\n");
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler, timing: true }));
      await ready();
      const seen = record();
      send(10, (index) => [index, 1]);
      await waitFor(() => seen.outputs.length === 10, 10_000, "ten results");
      for (const msg of seen.outputs) {
        assert.equal(msg.payload, (msg.seq ?? 0) + 1);
        assert.ok(msg.timing && msg.timing.queuedMs >= 0 && msg.timing.scoringMs >= 0 && msg.timing.batchSize >= 1);
      }
    });
  });

  describe("pool, ordering and throughput status", () => {
    it("spreads batches over several workers and still sends results in input order", async () => {
      const handler = writeHandler(
        "jitter",
        "import os, random, time\ndef load(p, c):\n    return None\n\ndef predict(m, batch):\n    time.sleep(random.random() * 0.02)\n    return [os.getpid() for _ in batch]\n",
      );
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler, workers: 3, batchSize: 4, maxWaitMs: 0 }));
      await waitFor(() => /^ready/.test(statusOf("model")) && !/\(\d\/3\)/.test(statusOf("model")), 60_000, "three ready workers");
      const seen = record();
      send(300, (index) => [index]);
      await waitFor(() => seen.outputs.length === 300, 30_000, "300 results");
      assert.deepEqual(
        seen.outputs.map((msg) => msg.seq),
        Array.from({ length: 300 }, (_, index) => index),
      );
      assert.equal(new Set(seen.outputs.map((msg) => msg.payload)).size, 3, "every worker scored some batches");
      await waitFor(() => /rec\/s, batch \d/.test(statusOf("model")), 5000, "rate and batch size in status");
    });
  });

  describe("failures", () => {
    it("shows failed records apart from scored ones in the status: yellow while some fail, red with the reason when all fail", async () => {
      const handler = writeHandler("picky", "def load(p, c):\n    return None\n\ndef predict(m, batch):\n    if any(row[0] < 0 for row in batch):\n        raise ValueError('negative input')\n    return [row[0] for row in batch]\n");
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler }));
      await ready();
      const seen = record();
      const mixed = feed((index) => [[1], [-1], "not features"][index % 3]);
      try {
        await waitFor(() => /^\d+ rec\/s, batch [\d.]+, \d+ failed\/s$/.test(statusOf("model")), 20_000, "a rate with failures");
      } finally {
        mixed.stop();
      }
      assert.equal(statusesOf("model").at(-1)?.fill, "yellow");
      assert.ok(seen.outputs.length > 0 && seen.errors.length > seen.outputs.length, `${seen.outputs.length} scored, ${seen.errors.length} failed`);

      const failing = feed(() => [-1]);
      try {
        await waitFor(() => /^\d+ failed\/s: ValueError: negative input$/.test(statusOf("model")), 20_000, "a rate of failures alone");
      } finally {
        failing.stop();
      }
      assert.equal(statusesOf("model").at(-1)?.fill, "red");
    });

    it("loses nothing when a worker is killed with SIGKILL mid-batch: every record ends in a result or at Catch", async () => {
      const handler = writeHandler("slow", "import time\ndef load(p, c):\n    return None\n\ndef predict(m, batch):\n    time.sleep(0.02)\n    return [row[0] * 2 for row in batch]\n");
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler, batchSize: 8 }));
      await ready();
      const seen = record();
      send(400, (index) => [index]);
      await waitFor(() => seen.outputs.length > 40, 10_000, "scoring under way");
      workersOf().forEach((pid) => process.kill(pid, "SIGKILL"));
      await waitFor(() => seen.outputs.length + seen.errors.length === 400, 60_000, "every record to end");
      assert.equal(seen.errors.length, 0, "the batches in flight were retried on the restarted worker");
      assert.deepEqual(
        seen.outputs.map((msg) => msg.payload),
        Array.from({ length: 400 }, (_, index) => index * 2),
      );
      assert.match(statusOf("model"), /1 restarts/);
    });

    it("kills only the worker of the node under test: another Node-RED's worker on the machine keeps running, with no restart", async () => {
      const neighbour = await startNeighbour();
      try {
        const handler = writeHandler("steady", "def load(p, c):\n    return None\n\ndef predict(m, batch):\n    return [row[0] for row in batch]\n");
        await helper.load([pythonModel, catchNode], flow({ handlerPath: handler }));
        await ready();
        workersOf().forEach((pid) => process.kill(pid, "SIGKILL"));
        await waitFor(() => /^ready · 1 restarts/.test(statusOf("model")), 30_000, "the node under test to restart its worker");
        assert.ok(isRunning(neighbour.worker), `the other Node-RED's worker ${neighbour.worker} still runs`);
      } finally {
        await neighbour.nodeRed.stop();
      }
    });

    it("isolates a poison record that kills the worker every time: only it fails", async () => {
      const handler = writeHandler(
        "poison",
        "import os\ndef load(p, c):\n    return None\n\ndef predict(m, batch):\n    if any(row[0] == 13 for row in batch):\n        os._exit(3)\n    return [row[0] for row in batch]\n",
      );
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler, batchSize: 32, maxWaitMs: 20 }));
      await ready();
      const seen = record();
      send(20, (index) => [index]);
      await waitFor(() => seen.outputs.length + seen.errors.length === 20, 60_000, "every record to end");
      assert.deepEqual(
        seen.errors.map((msg) => msg.seq),
        [13],
      );
      assert.match(seen.errors[0].error?.message ?? "", /WorkerCrash: the Python worker died each time it scored this record/);
      assert.equal(seen.outputs.length, 19);
    });

    it("kills and restarts a worker whose batch exceeds the timeout, fails that batch, and scores the next", async () => {
      const handler = writeHandler("hang", "import time\ndef load(p, c):\n    return None\n\ndef predict(m, batch):\n    if batch[0][0] < 0:\n        time.sleep(600)\n    return [row[0] for row in batch]\n");
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler, timeoutMs: 1000, batchSize: 1 }));
      await ready();
      const [hungPid] = workersOf();
      const seen = record();
      helper.getNode("model").receive({ payload: [-1], seq: 0 });
      await waitFor(() => seen.errors.length === 1, 10_000, "the timeout error");
      assert.match(seen.errors[0].error?.message ?? "", /took longer than 1000 ms/);
      await waitFor(() => !workersOf().includes(hungPid), 5000, "the hung worker to be gone");
      helper.getNode("model").receive({ payload: [7], seq: 1 });
      await waitFor(() => seen.outputs.length === 1, 20_000, "the next record scored by a fresh worker");
      assert.equal(seen.outputs[0].payload, 7);
    });
  });

  describe("log", () => {
    it("logs a handler's warning and traceback as warnings, the traceback in one piece, and its prints as info", async () => {
      const handler = writeHandler(
        "chatty",
        [
          "import traceback, warnings",
          "def load(p, c):",
          "    warnings.warn('this handler is deprecated')",
          "    try:",
          "        1 / 0",
          "    except ZeroDivisionError:",
          "        traceback.print_exc()",
          "    print('rules loaded')",
          "",
          "def predict(m, batch):",
          "    return [0 for _ in batch]",
          "",
        ].join("\n"),
      );
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler }));
      await ready();
      // printed last, on the same pipe as the rest
      await waitFor(() => loggedBy("model").some((entry) => entry.msg === "[python] rules loaded"), 10_000, "the handler's print");
      const logged = loggedBy("model").filter((entry) => entry.msg.startsWith("[python]"));
      assert.deepEqual(
        logged.filter((entry) => entry.level === "info").map((entry) => entry.msg),
        ["[python] rules loaded"],
      );
      const warnings = logged.filter((entry) => entry.level === "warn").map((entry) => entry.msg);
      assert.equal(warnings.length, 3, warnings.join("\n---\n"));
      assert.match(warnings[0], /^\[python\] \S+chatty\.py:3: UserWarning: this handler is deprecated$/);
      assert.match(warnings[1], /^\[python\]\s+warnings\.warn/);
      assert.match(warnings[2], /^\[python\] Traceback \(most recent call last\):\n(.*\n)+ZeroDivisionError: division by zero$/);
    });
  });

  describe("lifecycle", () => {
    it("reloads a changed handler file under load without failing or dropping a message", async () => {
      const source = (version: string) => `def load(p, c):\n    return "${version}"\n\ndef predict(m, batch):\n    return [m for _ in batch]\n`;
      const handler = writeHandler("versioned", source("v1"));
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler }));
      await ready();
      const seen = record();
      let sent = 0;
      const feed = setInterval(() => helper.getNode("model").receive({ payload: [sent], seq: sent++ }), 5);
      try {
        await waitFor(() => seen.outputs.length > 50, 10_000, "scoring with v1");
        fs.writeFileSync(handler, source("v2"));
        await waitFor(() => /model reloaded/.test(statusOf("model")), 30_000, "the reload");
        await waitFor(() => seen.outputs.at(-1)?.payload === "v2", 10_000, "results from v2");
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        clearInterval(feed);
      }
      await waitFor(() => seen.outputs.length + seen.errors.length === sent, 10_000, "every record to end");
      assert.equal(seen.errors.length, 0);
      const versions = seen.outputs.map((msg) => msg.payload);
      const firstV2 = versions.indexOf("v2");
      assert.ok(firstV2 > 0 && versions.slice(firstV2).every((version) => version === "v2"), "v1 until the switch, then only v2");
      assert.equal(workersOf().length, 1, "the v1 worker has left");
    });

    it("closes with records in flight well inside Node-RED's 15 s close timeout, leaving no process", async () => {
      const handler = writeHandler("sluggish", "import time\ndef load(p, c):\n    return None\n\ndef predict(m, batch):\n    time.sleep(0.3)\n    return [0 for _ in batch]\n");
      await helper.load([pythonModel, catchNode], flow({ handlerPath: handler, workers: 2, batchSize: 4 }));
      await waitFor(() => workersOf().length === 2 && /^ready/.test(statusOf("model")), 60_000, "two workers");
      send(100, (index) => [index]);
      const started = Date.now();
      await helper.unload();
      assert.ok(Date.now() - started < 10_000, `close took ${Date.now() - started} ms`);
      assert.deepEqual(workersOf(), []);
    });
  });
});
