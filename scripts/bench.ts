import * as os from "node:os";
import { step } from "./lib/project";
import { setup } from "./setup";
import { PYTHON_MODEL_DEFAULTS } from "../src/nodes/node-config";
import { kafkaPass } from "./bench/kafka-pass";
import { modelPass } from "./bench/model-pass";
import { startupPass } from "./bench/startup-pass";
import { profilePass } from "./bench/profile-pass";
import { BenchRuntime } from "./bench/node-red-runtime";
import type { PassResult } from "./bench/report";

const PASSES = { model: modelPass, kafka: kafkaPass, startup: startupPass, profile: profilePass };
type PassName = keyof typeof PASSES;
/** What `npm run bench` runs unless told: the profile pass writes files into docs/, and runs only when named. */
const DEFAULT_PASSES: PassName[] = ["model", "kafka", "startup"];

/**
 * `npm run bench [-- model | kafka | startup]`: the python-model node in a real
 * (embedded) Node-RED runtime on the demo model, against Python alone and two slower
 * ways of calling Python (model pass); then the Kafka nodes and the whole pipeline on
 * each engine against bare kafkajs and librdkafka clients, on a broker of their own
 * (kafka pass); then how soon a flow of one and of several model nodes has a model
 * ready, and the memory of a worker (startup pass). All three by default, in this one
 * run. Prints a table, then one JSON line.
 */
export async function main(args: string[]): Promise<number> {
  const unknown = args.filter((arg) => !(arg in PASSES));
  if (unknown.length > 0) {
    console.error(`usage: npm run bench [-- ${Object.keys(PASSES).join(" | ")}]   (unknown: ${unknown.join(" ")})`);
    return 2;
  }
  const passes = args.length > 0 ? ([...new Set(args)] as PassName[]) : DEFAULT_PASSES;
  await setup();
  const backend = process.env.BENCH_BACKEND ?? "tensorflow";
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  // other work on the machine moves every figure: say how busy it was
  const load = (): string => os.loadavg().map((value) => value.toFixed(1)).join(" ");
  step(`benchmark (${passes.join(", ")}): Keras iris model, ${backend} backend, in an embedded Node-RED runtime; load average ${load()}`);
  const runtime = await BenchRuntime.start();
  const done: PassResult[] = [];
  try {
    for (const name of passes) done.push(await PASSES[name](runtime, backend, seconds));
  } finally {
    await runtime.stop();
  }
  console.log(`\n[bench] load average at the end ${load()} on ${os.cpus().length} CPUs`);
  for (const [label, value] of done.flatMap((pass) => pass.table)) console.log(`${label.padEnd(48)} ${value}`);
  const results = Object.assign({}, ...done.map((pass) => pass.results)) as Record<string, number | string>;
  console.log(JSON.stringify({ ...results, backend, batch_size: PYTHON_MODEL_DEFAULTS.batchSize, cpus: os.cpus().length }));
  return 0;
}
