import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineChoice } from "../src/kafka/engines/open-engine";
import { ROOT, run, step } from "./lib/project";
import { runSpecs, type SpecCounts } from "./lib/spec-run";
import { setup } from "./setup";
import { RESULT_PREFIX } from "./test-engine";

const TEST_ROOT = path.join(ROOT, "dist", "test");
/** The specs that drive a Kafka engine: they run once on each. */
const KAFKA_SPECS = `${path.sep}integration${path.sep}kafka${path.sep}`;
/** The exactly-once specs (librdkafka alone has it): in the second process, beside the shorter kafkajs run. */
const EXACTLY_ONCE_SPECS = `${path.sep}integration${path.sep}exactly-once${path.sep}`;
/** The engine the whole run uses; the Kafka specs run again, beside it, on the other. */
const MAIN_ENGINE: EngineChoice = "librdkafka";
const OTHER_ENGINE: EngineChoice = "kafkajs";

function specFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? specFiles(path.join(dir, entry.name)) : entry.name.endsWith(".spec.js") ? [path.join(dir, entry.name)] : []))
    .sort();
}

/** The Kafka specs on the other engine (and the exactly-once specs), in a process of their own with a broker of their own; its output is kept for the end. */
function runOnOtherEngine(files: string[]): Promise<{ output: string; counts: SpecCounts }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TEST_KAFKA_ENGINE: OTHER_ENGINE };
    delete env.TEST_KAFKA_BROKERS;
    delete env.TEST_KAFKA_DATA_DIR;
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "scripts", "test-engine.js"), ...files], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("close", () => {
      const output = Buffer.concat(chunks).toString();
      const last = output.split("\n").reverse().find((line) => line.startsWith(RESULT_PREFIX));
      const counts = last ? (JSON.parse(last.slice(RESULT_PREFIX.length)) as SpecCounts) : { passes: 0, failures: 1, pending: 0 };
      resolve({ output, counts });
    });
  });
}

/**
 * `npm test`: setup, lint (the type check ran in the build), then every spec against a
 * broker of its own, on the librdkafka engine; the Kafka specs (test/integration/kafka)
 * also run on kafkajs, at the same time, in a second process with a second broker,
 * followed there by the exactly-once specs.
 * Arguments narrow the run to spec files whose path contains them.
 */
export async function main(args: string[]): Promise<number> {
  await setup();
  step("lint (eslint)");
  await run(process.execPath, [path.join(ROOT, "node_modules", "eslint", "bin", "eslint.js"), "--max-warnings=0", "."]);

  const files = specFiles(TEST_ROOT).filter((file) => args.length === 0 || args.some((arg) => file.includes(arg)));
  const kafkaFiles = files.filter((file) => file.includes(KAFKA_SPECS));
  const secondFiles = [...kafkaFiles, ...files.filter((file) => file.includes(EXACTLY_ONCE_SPECS))];
  if (secondFiles.length > 0) step(`the Kafka specs run on the ${OTHER_ENGINE} engine too, then the exactly-once specs, in a second process; its report follows this one`);
  const other = secondFiles.length > 0 ? runOnOtherEngine(secondFiles) : undefined;
  process.env.TEST_KAFKA_ENGINE = MAIN_ENGINE;
  const main = await runSpecs(
    files.filter((file) => !file.includes(EXACTLY_ONCE_SPECS)),
    "the tests",
  );
  const totals = { ...main };
  if (other) {
    const { output, counts } = await other;
    console.log(`\n[test] the Kafka specs on the ${OTHER_ENGINE} engine, and the exactly-once specs:\n${output}`);
    totals.passes += counts.passes;
    totals.failures += counts.failures;
    totals.pending += counts.pending;
  }
  const pending = totals.pending > 0 ? `, ${totals.pending} skipped` : "";
  console.log(`\n${totals.passes} passed, ${totals.failures} failed${pending}`);
  return totals.failures > 0 || totals.passes === 0 ? 1 : 0;
}
