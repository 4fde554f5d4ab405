import * as fs from "node:fs";
import * as path from "node:path";
import { projectPython } from "../lib/install-python";
import { workersOf } from "../lib/processes";
import { ROOT } from "../lib/project";
import { DEMO_MODEL, HOLDOUT_ROWS } from "../lib/demo-model";
import { maxLoadsSetting } from "../../src/python/load-limiter";
import type { BenchRuntime, SinkMsg } from "./node-red-runtime";
import { median, ratio, round, type PassResult } from "./report";

const MANY = 6;
/** The first of MANY nodes is ready within this multiple of the time one node alone takes. */
const TARGET_FIRST_READY = 1.5;
/** Each figure is the median of this many runs, one node and MANY nodes taken in turns. */
const ROUNDS = 3;
const SKLEARN_MODEL = path.join(ROOT, "models", "iris", "iris_logreg.joblib");
const ROWS_SCORED_BEFORE_MEASURING = 256;

/** When, after the deploy, the first and the last of a flow's python-model nodes showed ready. */
interface Startup {
  firstMs: number;
  allMs: number;
}

/** Memory of a python-model node's two workers, in MB (from /proc/<pid>/smaps_rollup). */
interface WorkerMemory {
  /** Resident set of one worker: what `ps` and `top` show. */
  rssMb: number;
  /** What each worker holds alone with another of the same model beside it: the cost of one more worker. */
  privateMb: number;
}

function modelNode(id: string, model: Record<string, unknown>): { id: string; [setting: string]: unknown } {
  return { id, type: "python-model", z: "startup", python: projectPython(), wires: [["sink"]], ...model };
}

function flow(models: object[]): object[] {
  return [
    { id: "startup", type: "tab", label: "startup bench" },
    ...models,
    { id: "sink", type: "bench-sink", z: "startup", wires: [] },
    { id: "watcher", type: "status", z: "startup", scope: null, wires: [["statuses"]] },
    { id: "statuses", type: "bench-sink", z: "startup", channel: "status", wires: [] },
  ];
}

/**
 * Deploys `models` and waits until each shows `readyText` (a Status node misses the
 * first status each node shows as it starts, never a later one); when the first and
 * the last did, counted from just before the deploy.
 */
async function deployUntilReady(runtime: BenchRuntime, models: { id: string }[], readyText: RegExp): Promise<Startup> {
  const readyAt = new Map<string, number>();
  let failure: string | undefined;
  runtime.on("status", (msg: SinkMsg) => {
    const id = msg.status?.source?.id ?? "";
    if (msg.status?.fill === "red") failure ??= `${id}: ${msg.status.text}`;
    if (readyText.test(msg.status?.text ?? "") && !readyAt.has(id)) readyAt.set(id, performance.now());
  });
  const start = performance.now();
  await runtime.deploy(flow(models));
  while (readyAt.size < models.length) {
    if (failure) throw new Error(`a model did not load: ${failure}`);
    if (performance.now() - start > 600_000) throw new Error(`${models.length - readyAt.size} python-model nodes not ready after 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const times = [...readyAt.values()].map((at) => at - start);
  return { firstMs: Math.min(...times), allMs: Math.max(...times) };
}

/** Sends rows to the node and waits for their results: memory is read from a worker that has scored. */
async function score(runtime: BenchRuntime, id: string, count: number): Promise<void> {
  const node = runtime.node(id);
  if (!node) throw new Error(`no node ${id}`);
  let received = 0;
  await new Promise<void>((resolve) => {
    runtime.on("scored", () => {
      if (++received === count) resolve();
    });
    for (let index = 0; index < count; index++) node.receive({ payload: HOLDOUT_ROWS[index % HOLDOUT_ROWS.length].features });
  });
}

function memoryOf(pid: number): { rssMb: number; privateMb: number } {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const mb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? NaN) / 1024;
  return { rssMb: mb("Rss"), privateMb: mb("Private_Clean") + mb("Private_Dirty") };
}

/** One node with two workers of the model; each worker's memory once both are loaded and have scored. */
async function workerMemory(runtime: BenchRuntime, model: Record<string, unknown>): Promise<WorkerMemory> {
  await deployUntilReady(runtime, [modelNode("model", { ...model, workers: 2 })], /^ready$/);
  try {
    await score(runtime, "model", ROWS_SCORED_BEFORE_MEASURING);
    const workers = workersOf().map(memoryOf);
    if (workers.length !== 2) throw new Error(`expected the node's 2 workers, found ${workers.length}`);
    return { rssMb: Math.max(...workers.map((worker) => worker.rssMb)), privateMb: Math.max(...workers.map((worker) => worker.privateMb)) };
  } finally {
    await runtime.deploy([]);
  }
}

/**
 * How long a flow takes to have a model ready: from deploy to the first python-model
 * node ready, for one node of the demo Keras model and for MANY, in turns; and what one
 * worker of each kind of model costs in memory.
 */
export async function startupPass(runtime: BenchRuntime, backend: string): Promise<PassResult> {
  const keras = { kind: "keras", modelPath: DEMO_MODEL, backend };
  const one: Startup[] = [];
  const many: Startup[] = [];
  console.log(`[bench] startup: models load ${maxLoadsSetting()} at a time (PYTHON_MODEL_MAX_LOADS, or half the cores)`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [runs, count] of [
      [one, 1],
      [many, MANY],
    ] as const) {
      const models = Array.from({ length: count }, (_, index) => modelNode(`model-${index + 1}`, keras));
      const startup = await deployUntilReady(runtime, models, /^ready/);
      await runtime.deploy([]);
      runs.push(startup);
      console.log(`[bench] startup, ${count} node(s), round ${round}/${ROUNDS}: first ready ${(startup.firstMs / 1000).toFixed(1)} s, all ${(startup.allMs / 1000).toFixed(1)} s`);
    }
  }
  const memory = {
    tensorflow: await workerMemory(runtime, { kind: "keras", modelPath: DEMO_MODEL, backend: "tensorflow" }),
    jax: await workerMemory(runtime, { kind: "keras", modelPath: DEMO_MODEL, backend: "jax" }),
    sklearn: await workerMemory(runtime, { kind: "sklearn", modelPath: SKLEARN_MODEL, method: "predict_proba" }),
  };

  const seconds = (runs: Startup[], pick: (startup: Startup) => number): number => round(median(runs.map(pick)) / 1000);
  const results: Record<string, number> = {
    first_ready_1_node_s: seconds(one, (startup) => startup.firstMs),
    [`first_ready_${MANY}_nodes_s`]: seconds(many, (startup) => startup.firstMs),
    [`all_ready_${MANY}_nodes_s`]: seconds(many, (startup) => startup.allMs),
  };
  for (const [name, worker] of Object.entries(memory)) {
    results[`worker_rss_mb_${name}`] = Math.round(worker.rssMb);
    results[`worker_private_mb_${name}`] = Math.round(worker.privateMb);
  }
  return { results, table: table(results, one, many, memory) };
}

/**
 * The ratio's verdict is taken on the medians, and followed by each round's ratio; when
 * the rounds spread wider than the median stands from the target, the table says so.
 */
function table(results: Record<string, number>, one: Startup[], many: Startup[], memory: Record<string, WorkerMemory>): [string, string][] {
  const first = results[`first_ready_${MANY}_nodes_s`] / results.first_ready_1_node_s;
  const byRound = one.map((alone, index) => many[index].firstMs / alone.firstMs);
  const spread = Math.max(...byRound) - Math.min(...byRound);
  const verdict = first <= TARGET_FIRST_READY ? "target met" : "target missed";
  const conclusive = spread > Math.abs(TARGET_FIRST_READY - first) ? `; the rounds spread ${spread.toFixed(2)}x, wider than the gap to the target` : "";
  const rows: [string, string][] = [
    ["startup: 1 node, deploy to ready", `${results.first_ready_1_node_s.toFixed(1)} s (median of ${ROUNDS} runs)`],
    [`startup: ${MANY} nodes, deploy to first ready`, `${results[`first_ready_${MANY}_nodes_s`].toFixed(1)} s (all ${MANY} ready: ${results[`all_ready_${MANY}_nodes_s`].toFixed(1)} s)`],
    [
      `first ready, ${MANY} nodes / 1 node`,
      `${ratio(results[`first_ready_${MANY}_nodes_s`], results.first_ready_1_node_s)} (<= ${TARGET_FIRST_READY}x: ${verdict}; by round ${byRound.map((value) => `${value.toFixed(2)}x`).join(", ")}${conclusive})`,
    ],
  ];
  for (const [name, worker] of Object.entries(memory)) {
    rows.push([`memory of a worker, ${name === "sklearn" ? "scikit-learn" : `Keras ${name}`}`, `${Math.round(worker.rssMb)} MB RSS; each more worker +${Math.round(worker.privateMb)} MB`]);
  }
  return rows;
}
