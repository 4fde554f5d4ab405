import * as os from "node:os";
import { step } from "./lib/project";
import { setup } from "./setup";
import { PYTHON_MODEL_DEFAULTS } from "../src/nodes/node-config";
import { modelPass } from "./bench/model-pass";
import { BenchRuntime } from "./bench/node-red-runtime";
import type { PassResult } from "./bench/report";

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
  const runtime = await BenchRuntime.start();
  let pass: PassResult;
  try {
    pass = await modelPass(runtime, backend, seconds);
  } finally {
    await runtime.stop();
  }
  console.log("");
  for (const [label, value] of pass.table) console.log(`${label.padEnd(44)} ${value}`);
  console.log(JSON.stringify({ ...pass.results, backend, batch_size: PYTHON_MODEL_DEFAULTS.batchSize, cpus: os.cpus().length }));
  return 0;
}
