import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { installPackageInto } from "./lib/node-red-process";
import { ROOT, step } from "./lib/project";
import { projectPython } from "./lib/install-python";
import { setup } from "./setup";
import { PYTHON_MODEL_DEFAULTS } from "../src/nodes/node-config";

const MODEL = path.join(ROOT, "models", "iris", "iris_mlp.keras");
const HOLDOUT = path.join(ROOT, "models", "iris", "holdout.json");
const NAIVE_HANDLER = path.join(ROOT, "scripts", "bench", "naive_keras_handler.py");
const PYTHON_ALONE = path.join(ROOT, "scripts", "bench", "python_alone.py");

interface BenchMsg {
  payload: number[];
  sentAt: number;
  _msgid?: string;
}

interface Runtime {
  nodes: { getNode(id: string): { receive(msg: object): void } | null };
  runtime: { flows: { setFlows(opts: { flows: { flows: object[] } }): Promise<unknown> } };
  init(server: http.Server, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Where each scored msg goes: the bench-sink node calls these. */
let onScored: (msg: BenchMsg) => void = () => undefined;
let onFailed: (error: string) => void = () => undefined;

/**
 * The smallest possible node at the end of the flow, so that the benchmark measures
 * python-model and not its sink. Written into the runtime's nodes folder at start.
 */
const SINK_NODE = `module.exports = function (RED) {
  function BenchSink(config) {
    RED.nodes.createNode(this, config);
    const report = globalThis.pythonModelBench;
    this.on("input", (msg, send, done) => {
      if (config.failures) report.failed(msg.error.message);
      else report.scored(msg);
      done();
    });
  }
  RED.nodes.registerType("bench-sink", BenchSink);
};
`;
const SINK_HTML = `<script type="text/javascript">RED.nodes.registerType("bench-sink", { category: "common", defaults: { failures: { value: false } }, inputs: 1, outputs: 0 });</script>`;

const rows = (JSON.parse(fs.readFileSync(HOLDOUT, "utf8")) as { features: number[] }[]).map((row) => row.features);

function flow(model: Record<string, unknown>): object[] {
  return [
    { id: "bench", type: "tab", label: "bench" },
    { id: "model", type: "python-model", z: "bench", python: projectPython(), kind: "keras", modelPath: MODEL, wires: [["sink"]], ...model },
    { id: "sink", type: "bench-sink", z: "bench", wires: [] },
    { id: "catcher", type: "catch", z: "bench", scope: ["model"], wires: [["failures"]] },
    { id: "failures", type: "bench-sink", z: "bench", failures: true, wires: [] },
  ];
}

async function deploy(RED: Runtime, model: Record<string, unknown>): Promise<void> {
  await RED.runtime.flows.setFlows({ flows: { flows: flow(model) } });
  for (let waited = 0; !RED.nodes.getNode("model"); waited += 50) {
    if (waited > 30_000) throw new Error("the python-model node did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // the model is ready once a record comes back
  await saturate(RED, 1, 1);
}

/** Keeps `window` records in flight until `total` came back; rows per second. */
function saturate(RED: Runtime, total: number, window: number): Promise<number> {
  const node = RED.nodes.getNode("model");
  if (!node) throw new Error("the python-model node did not start");
  let sent = 0;
  let received = 0;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const send = (): void => {
      node.receive({ payload: rows[sent % rows.length], sentAt: performance.now() });
      sent++;
    };
    onFailed = (error) => reject(new Error(`a record failed: ${error}`));
    onScored = () => {
      received++;
      if (received === total) resolve((total * 1000) / (performance.now() - start));
      else if (sent < total) send();
    };
    while (sent < Math.min(window, total)) send();
  });
}

/** Sends at a fixed rate for `seconds`; latency percentiles in ms. */
function latencyAtRate(RED: Runtime, perSecond: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const node = RED.nodes.getNode("model");
  if (!node) throw new Error("the python-model node did not start");
  const latencies: number[] = [];
  const total = perSecond * seconds;
  let sent = 0;
  return new Promise((resolve, reject) => {
    onFailed = (error) => reject(new Error(`a record failed: ${error}`));
    onScored = (msg) => {
      latencies.push(performance.now() - msg.sentAt);
      if (latencies.length === total) {
        latencies.sort((a, b) => a - b);
        resolve({ p50: latencies[Math.floor(total * 0.5)], p99: latencies[Math.floor(total * 0.99)] });
      }
    };
    const start = performance.now();
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000));
      while (sent < due) {
        node.receive({ payload: rows[sent % rows.length], sentAt: performance.now() });
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

async function startRuntime(): Promise<{ RED: Runtime; server: http.Server }> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "python-model-bench-"));
  installPackageInto(userDir);
  fs.mkdirSync(path.join(userDir, "nodes"));
  fs.writeFileSync(path.join(userDir, "nodes", "bench-sink.js"), SINK_NODE);
  fs.writeFileSync(path.join(userDir, "nodes", "bench-sink.html"), SINK_HTML);
  Object.assign(globalThis, { pythonModelBench: { scored: (msg: BenchMsg) => onScored(msg), failed: (error: string) => onFailed(error) } });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- node-red ships no types for its embedding API
  const RED = require("node-red") as Runtime;
  const server = http.createServer();
  RED.init(server, {
    userDir,
    flowFile: "flows.json",
    httpAdminRoot: false,
    httpNodeRoot: false,
    uiHost: "127.0.0.1",
    credentialSecret: false,
    editorTheme: { projects: { enabled: false } },
    logging: { console: { level: "warn" } },
  });
  await RED.start();
  return { RED, server };
}

const round = (value: number): number => Math.round(value * 10) / 10;

/**
 * `npm run bench`: the python-model node in a real (embedded) Node-RED runtime on the
 * demo model, against the same rows scored by Python alone and two slower ways of
 * calling Python, all in this one run. Prints a table, then one JSON line.
 */
export async function main(): Promise<number> {
  await setup();
  const backend = process.env.BENCH_BACKEND ?? "tensorflow";
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  step(`benchmark: Keras iris model, ${backend} backend, in an embedded Node-RED runtime`);
  const { RED, server } = await startRuntime();
  const results: Record<string, number> = {};
  const table: [string, string][] = [];
  try {
    const measure = async (label: string, model: Record<string, unknown>, total: number, window: number): Promise<number> => {
      await deploy(RED, { backend, ...model });
      const perSecond = await saturate(RED, total, window);
      console.log(`[bench] ${label}: ${Math.round(perSecond)} rows/s`);
      if (!label.includes("warm-up")) table.push([label, `${Math.round(perSecond)} rows/s`]);
      return perSecond;
    };
    const defaults = {}; // the node's own defaults
    const batchSize = PYTHON_MODEL_DEFAULTS.batchSize;
    // a first pass sizes the runs so that each lasts about `seconds`
    const probe = await measure("warm-up", defaults, 20_000, 4096);
    results.rows_per_s = await measure("python-model, default settings", defaults, Math.round(probe * seconds), 4096);
    const latency = await latencyAtRate(RED, 1000, 5);
    results.p50_ms = round(latency.p50);
    results.p99_ms = round(latency.p99);
    table.push(["latency at 1,000 rows/s, p50 / p99", `${results.p50_ms} / ${results.p99_ms} ms`]);
    results.python_alone_rows_per_s = pythonAlone(batchSize, backend);
    table.push([`Python alone, batches of ${batchSize}, no IPC`, `${Math.round(results.python_alone_rows_per_s)} rows/s`]);
    const unbatchedProbe = await measure("unbatched warm-up", { batchSize: 1, maxWaitMs: 0 }, 2000, 256);
    results.unbatched_rows_per_s = await measure("python-model, batching off", { batchSize: 1, maxWaitMs: 0 }, Math.round(unbatchedProbe * seconds), 256);
    results.naive_rows_per_s = await measure(
      "one model.predict() per record",
      { kind: "python", handlerPath: NAIVE_HANDLER, modelPath: MODEL, batchSize: 1, maxWaitMs: 0 },
      Math.max(50, Math.round(30 * seconds)),
      1,
    );
    await RED.runtime.flows.setFlows({ flows: { flows: [] } });
  } finally {
    await RED.stop();
    server.close();
  }
  results.rows_per_s = Math.round(results.rows_per_s);
  results.python_alone_rows_per_s = Math.round(results.python_alone_rows_per_s);
  results.unbatched_rows_per_s = Math.round(results.unbatched_rows_per_s);
  results.naive_rows_per_s = round(results.naive_rows_per_s);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  table.push(["default / batching off", ratio(results.rows_per_s, results.unbatched_rows_per_s)]);
  table.push(["default / one predict() per record", ratio(results.rows_per_s, results.naive_rows_per_s)]);
  table.push(["default / Python alone", ratio(results.rows_per_s, results.python_alone_rows_per_s)]);
  console.log("");
  for (const [label, value] of table) console.log(`${label.padEnd(44)} ${value}`);
  console.log(JSON.stringify({ ...results, backend, batch_size: PYTHON_MODEL_DEFAULTS.batchSize, cpus: os.cpus().length }));
  return 0;
}
