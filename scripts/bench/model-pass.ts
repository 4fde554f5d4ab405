import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectPython } from "../lib/install-python";
import { H2O_LIBS, ROOT } from "../lib/project";
import { PYTHON_MODEL_DEFAULTS } from "../../src/nodes/node-config";
import { DEMO_MODEL as MODEL, HOLDOUT_FILE as HOLDOUT, HOLDOUT_ROWS } from "../lib/demo-model";
import type { BenchRuntime } from "./node-red-runtime";
import { ratio, round, type PassResult } from "./report";

const holdoutRows = HOLDOUT_ROWS.map((row) => row.features);

/** The demo model exported to ONNX by models/iris/export_onnx.py. */
const ONNX_MODEL = path.join(ROOT, "models", "iris", "iris_mlp.onnx");
/** The H2O example GBM (models/h2o) and its held-out rows, as objects of named columns. */
const H2O_MODEL = path.join(ROOT, "models", "h2o", "breast_cancer_gbm.zip");
const H2O_HOLDOUT = path.join(ROOT, "models", "h2o", "holdout.json");
const h2oRows = (JSON.parse(fs.readFileSync(H2O_HOLDOUT, "utf8")) as Record<string, { rows: object[] }>)["breast_cancer_gbm.zip"].rows;
const H2O_ALONE = path.join(ROOT, "scripts", "bench", "H2oAlone.java");
const NAIVE_HANDLER = path.join(ROOT, "scripts", "bench", "naive_keras_handler.py");
const PYTHON_ALONE = path.join(ROOT, "scripts", "bench", "python_alone.py");

function flow(model: Record<string, unknown>): object[] {
  return [
    { id: "bench", type: "tab", label: "bench" },
    { id: "model", type: "python-model", z: "bench", python: projectPython(), kind: "keras", modelPath: MODEL, wires: [["sink"]], ...model },
    { id: "sink", type: "bench-sink", z: "bench", wires: [] },
    { id: "catcher", type: "catch", z: "bench", scope: ["model"], wires: [["failures"]] },
    { id: "failures", type: "bench-sink", z: "bench", channel: "failed", wires: [] },
  ];
}

async function deploy(runtime: BenchRuntime, model: Record<string, unknown>, rows?: unknown[]): Promise<void> {
  await runtime.deploy(flow(model));
  for (let waited = 0; !runtime.node("model"); waited += 50) {
    if (waited > 30_000) throw new Error("the python-model node did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // the model is ready once a record comes back
  await saturate(runtime, 1, 1, rows);
}

function modelNode(runtime: BenchRuntime): { receive(msg: object): void } {
  const node = runtime.node("model");
  if (!node) throw new Error("the python-model node did not start");
  return node;
}

/** Keeps `window` records in flight until `total` came back; rows per second. */
function saturate(runtime: BenchRuntime, total: number, window: number, rows: unknown[] = holdoutRows): Promise<number> {
  const node = modelNode(runtime);
  let sent = 0;
  let received = 0;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const send = (): void => {
      node.receive({ payload: rows[sent % rows.length], sentAt: performance.now() });
      sent++;
    };
    runtime.on("failed", (msg) => reject(new Error(`a record failed: ${msg.error?.message}`)));
    runtime.on("scored", () => {
      received++;
      if (received === total) resolve((total * 1000) / (performance.now() - start));
      else if (sent < total) send();
    });
    while (sent < Math.min(window, total)) send();
  });
}

/** Sends at a fixed rate for `seconds`; latency percentiles in ms. */
function latencyAtRate(runtime: BenchRuntime, perSecond: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const node = modelNode(runtime);
  const latencies: number[] = [];
  const total = perSecond * seconds;
  let sent = 0;
  return new Promise((resolve, reject) => {
    runtime.on("failed", (msg) => reject(new Error(`a record failed: ${msg.error?.message}`)));
    runtime.on("scored", (msg) => {
      latencies.push(performance.now() - (msg.sentAt ?? NaN));
      if (latencies.length === total) {
        latencies.sort((a, b) => a - b);
        resolve({ p50: latencies[Math.floor(total * 0.5)], p99: latencies[Math.floor(total * 0.99)] });
      }
    });
    const start = performance.now();
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000));
      while (sent < due) {
        node.receive({ payload: holdoutRows[sent % holdoutRows.length], sentAt: performance.now() });
        sent++;
      }
      if (sent >= total) clearInterval(tick);
    }, 1);
  });
}

function pythonAlone(batch: number, backend: string): number {
  const result = spawnSync(projectPython(), [PYTHON_ALONE, "--model", MODEL, "--rows", HOLDOUT, "--batch", String(batch), "--backend", backend], {
    encoding: "utf8",
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" },
  });
  const line = result.stdout.trim().split("\n").pop() ?? "";
  if (result.status !== 0 || !line.startsWith("{")) throw new Error(`python_alone.py failed:\n${result.stderr}`);
  return (JSON.parse(line) as { rows_per_s: number }).rows_per_s;
}

/** H2O's EasyPredictModelWrapper in a plain Java loop on the same rows: the ceiling of the h2o kind. */
function h2oAlone(seconds: number): number {
  const result = spawnSync("java", ["-cp", path.join(H2O_LIBS, "*"), H2O_ALONE, H2O_MODEL, H2O_HOLDOUT, String(seconds)], { encoding: "utf8" });
  const line = result.stdout.trim().split("\n").pop() ?? "";
  if (result.status !== 0 || !line.startsWith("{")) throw new Error(`H2oAlone.java failed:\n${result.stderr}`);
  return (JSON.parse(line) as { rows_per_s: number }).rows_per_s;
}

/**
 * The python-model node alone on the demo model, fed straight from the benchmark,
 * against the same rows scored by Python alone and two slower ways of calling Python.
 */
export async function modelPass(runtime: BenchRuntime, backend: string, seconds: number): Promise<PassResult> {
  const results: Record<string, number> = {};
  const table: [string, string][] = [];
  const measure = async (label: string, model: Record<string, unknown>, total: number, window: number, rows?: unknown[]): Promise<number> => {
    await deploy(runtime, { backend, ...model }, rows);
    const perSecond = await saturate(runtime, total, window, rows);
    console.log(`[bench] ${label}: ${Math.round(perSecond)} rows/s`);
    if (!label.includes("warm-up")) table.push([label, `${Math.round(perSecond)} rows/s`]);
    return perSecond;
  };
  const defaults = {}; // the node's own defaults
  const batchSize = PYTHON_MODEL_DEFAULTS.batchSize;
  // a first pass sizes the runs so that each lasts about `seconds`
  const probe = await measure("warm-up", defaults, 20_000, 4096);
  results.rows_per_s = await measure("python-model, default settings", defaults, Math.round(probe * seconds), 4096);
  const latency = await latencyAtRate(runtime, 1000, 5);
  results.p50_ms = round(latency.p50);
  results.p99_ms = round(latency.p99);
  table.push(["latency at 1,000 rows/s, p50 / p99", `${results.p50_ms} / ${results.p99_ms} ms`]);
  results.python_alone_rows_per_s = pythonAlone(batchSize, backend);
  table.push([`Python alone, batches of ${batchSize}, no IPC`, `${Math.round(results.python_alone_rows_per_s)} rows/s`]);
  results.onnx_rows_per_s = await measure("python-model, the same model as ONNX (onnxruntime)", { kind: "onnx", modelPath: ONNX_MODEL }, Math.round(probe * seconds), 4096);
  const h2oProbe = await measure("H2O warm-up", { kind: "h2o", modelPath: H2O_MODEL }, 20_000, 4096, h2oRows);
  results.h2o_rows_per_s = await measure("python-model, the H2O GBM MOJO (models/h2o)", { kind: "h2o", modelPath: H2O_MODEL }, Math.round(h2oProbe * seconds), 4096, h2oRows);
  results.h2o_alone_rows_per_s = h2oAlone(seconds);
  table.push(["H2O's EasyPredictModelWrapper alone, the same rows, a Java loop", `${Math.round(results.h2o_alone_rows_per_s)} rows/s`]);
  const unbatchedProbe = await measure("unbatched warm-up", { batchSize: 1, maxWaitMs: 0 }, 2000, 256);
  results.unbatched_rows_per_s = await measure("python-model, batching off", { batchSize: 1, maxWaitMs: 0 }, Math.round(unbatchedProbe * seconds), 256);
  results.naive_rows_per_s = await measure(
    "one model.predict() per record",
    { kind: "python", handlerPath: NAIVE_HANDLER, modelPath: MODEL, batchSize: 1, maxWaitMs: 0 },
    Math.max(50, Math.round(30 * seconds)),
    1,
  );

  results.rows_per_s = Math.round(results.rows_per_s);
  results.onnx_rows_per_s = Math.round(results.onnx_rows_per_s);
  results.h2o_rows_per_s = Math.round(results.h2o_rows_per_s);
  results.h2o_alone_rows_per_s = Math.round(results.h2o_alone_rows_per_s);
  results.python_alone_rows_per_s = Math.round(results.python_alone_rows_per_s);
  results.unbatched_rows_per_s = Math.round(results.unbatched_rows_per_s);
  results.naive_rows_per_s = round(results.naive_rows_per_s);
  table.push(["default / batching off", ratio(results.rows_per_s, results.unbatched_rows_per_s)]);
  table.push(["default / one predict() per record", ratio(results.rows_per_s, results.naive_rows_per_s)]);
  table.push(["default / Python alone", ratio(results.rows_per_s, results.python_alone_rows_per_s)]);
  table.push(["ONNX / Keras, the same model", ratio(results.onnx_rows_per_s, results.rows_per_s)]);
  table.push(["H2O through the node / H2O alone", ratio(results.h2o_rows_per_s, results.h2o_alone_rows_per_s)]);
  return { results, table };
}
