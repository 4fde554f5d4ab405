import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { installProfilers, INFERNO_FLAMEGRAPH, PY_SPY } from "../lib/install-profilers";
import { childrenOf } from "../lib/processes";
import { ROOT } from "../lib/project";
import { parseBrokerList } from "../../src/kafka/connection";
import { foldedStacks, startCpuProfile, timeByCategory, topSelfFrames, type Category } from "./cpu-profile";
import { benchBroker, KafkaBench } from "./kafka-pass";
import { KafkaTraffic } from "./kafka-traffic";
import type { BenchRuntime } from "./node-red-runtime";
import { round, type PassResult } from "./report";

/** Where the flame graphs go: the README's time breakdown refers to them. */
const DOCS = path.join(ROOT, "docs", "profile");
/** Records of the profiled run: about ten seconds of the batch path here. */
const RECORDS_PER_SECOND_GUESS = 50_000;
/** The JavaScript frames listed by their own time. */
const TOP_FRAMES = 12;
/** py-spy's samples per second of the Python worker. */
const PY_SPY_RATE = 250;

/** Where the Node-RED process's JavaScript thread spends its time, by the innermost frame a category claims. */
const NODE_CATEGORIES: Category[] = [
  { name: "write: kafka-out, encode, librdkafka produce", test: ({ url, functionName }) => /nodes\/kafka-out|engines\/librdkafka\/producer/.test(url) || (/record-codec/.test(url) && /^encode/.test(functionName)) },
  { name: "read: decode records into the batch msg", test: ({ url }) => /kafka\/record-codec|kafka\/record-batches/.test(url) },
  { name: "read: librdkafka consume", test: ({ url }) => /engines\/librdkafka\/(consumer|native)|@confluentinc/.test(url) },
  { name: "IPC: frames to and from Python", test: ({ url }) => /python\/(protocol|worker-process|worker-pool|model-runner|crash-recovery)/.test(url) },
  { name: "python-model: rows, features, micro-batches", test: ({ url }) => /nodes\/python-model|python\/(row-scoring|micro-batcher|model-service|features|ordered-release|model-kinds)/.test(url) },
  { name: "settle and commit", test: ({ url }) => /kafka\/(settlement|offset-tracker|consumer-loop)|transactions\//.test(url) },
  { name: "status counters", test: ({ url }) => /nodes\/(rate-status|status|kafka-in)/.test(url) },
  { name: "Node-RED: send, route, hooks", test: ({ url }) => /@node-red\/|node-red\//.test(url) },
  { name: "benchmark's own polling (kafkajs)", test: ({ url }) => /scripts\/bench|kafkajs\//.test(url) },
  { name: "garbage collection", test: ({ functionName }) => functionName === "(garbage collector)" },
  { name: "native code outside JavaScript (the clients' callbacks, libuv)", test: ({ functionName }) => functionName === "(program)" },
];

/** Where the Python worker spends its busy time, by the innermost function of its stack that names one. */
const PYTHON_CATEGORIES: [string, RegExp][] = [
  ["model: Keras predict and its results", /\((keras_handler|keras|tensorflow|numpy)[^)]*\)/],
  ["IPC: read, decode and write frames", /^(read_frame|read_exact|rows_from_block|frame|encode|encode_reply|encodable_or_error|to_jsonable) \(worker\.py/],
];

/**
 * `npm run bench -- profile`: runs the batch path (kafka-in a msg per batch of 500 ->
 * python-model -> kafka-out, librdkafka) over about ten seconds of records while V8's
 * profiler samples Node-RED's JavaScript thread and py-spy the Python worker; writes a
 * flame graph of each to docs/profile and prints where the time went.
 */
export async function profilePass(runtime: BenchRuntime, backend: string, seconds: number): Promise<PassResult> {
  await installProfilers();
  const broker = await benchBroker();
  const traffic = await KafkaTraffic.connect(parseBrokerList(broker.brokers));
  try {
    const bench = new KafkaBench(runtime, traffic, broker.brokers, undefined, backend, seconds);
    const count = RECORDS_PER_SECOND_GUESS * seconds;
    const { input, output } = await traffic.freshTopics("profile");
    await traffic.preload(input, count);
    const flow = await bench.readyFlow("batch", input, output, "librdkafka");
    const workerPid = childrenOf(process.pid).find((pid) => readCommand(pid).includes("worker.py"));
    if (!workerPid) throw new Error("no Python worker to profile");
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-profile-"));
    const pythonFolded = path.join(work, "python.folded");
    const spy = spawn(PY_SPY, ["record", "--pid", String(workerPid), "--rate", String(PY_SPY_RATE), "--format", "raw", "--output", pythonFolded, "--nonblocking"], { stdio: ["ignore", "ignore", "pipe"] });
    let spyLog = "";
    spy.stderr.on("data", (chunk: Buffer) => (spyLog += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // py-spy attaches

    const cpuBefore = process.cpuUsage();
    const workerBefore = cpuSeconds(workerPid);
    const profiler = await startCpuProfile();
    await flow.addInput();
    const timing = await traffic.awaitOutput(output, count, () => undefined);
    const profile = await profiler.stop();
    const cpu = process.cpuUsage(cpuBefore);
    const workerCpuS = cpuSeconds(workerPid) - workerBefore;
    spy.kill("SIGINT");
    await new Promise((resolve) => spy.once("exit", resolve));
    await runtime.deploy([]);

    fs.mkdirSync(DOCS, { recursive: true });
    const nodeSvg = path.join(DOCS, "batch-path-node-red.svg");
    const pythonSvg = path.join(DOCS, "batch-path-python-worker.svg");
    await flameGraph(foldedStacks(profile), nodeSvg, "Node-RED's JavaScript thread, batch path (V8 profiler, µs)");
    if (!fs.existsSync(pythonFolded)) throw new Error(`py-spy wrote no profile: ${spyLog.trim()}`);
    const pythonStacks = fs.readFileSync(pythonFolded, "utf8");
    await flameGraph(pythonStacks, pythonSvg, "the Python worker, batch path (py-spy, samples)");

    const wallS = (profile.endTime - profile.startTime) / 1e6;
    const recordsPerS = (timing.records * 1000) / timing.ms;
    const byCategory = timeByCategory(profile, NODE_CATEGORIES);
    const mainBusyS = ([...byCategory].filter(([name]) => name !== "idle").reduce((sum, [, us]) => sum + us, 0)) / 1e6;
    const processCpuS = (cpu.user + cpu.system) / 1e6;
    const python = pythonShares(pythonStacks);
    const percent = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)}%`;
    const table: [string, string][] = [
      ["profile: batch path (librdkafka)", `${Math.round(recordsPerS)} records/s while profiled (${timing.records} records, ${wallS.toFixed(1)} s)`],
      ["profile: Node-RED process CPU", `${processCpuS.toFixed(1)} s: JavaScript thread ${mainBusyS.toFixed(1)} s busy of ${wallS.toFixed(1)} s, other threads (librdkafka, libuv, GC helpers) ${(processCpuS - mainBusyS).toFixed(1)} s`],
      ...[...byCategory]
        .filter(([name]) => name !== "idle")
        .sort((a, b) => b[1] - a[1])
        .map(([name, us]): [string, string] => [`  JS thread: ${name}`, `${percent(us / 1e6, mainBusyS)} of its busy time`]),
      ...topSelfFrames(profile, TOP_FRAMES).map(([name, us]): [string, string] => [`  JS thread, self: ${name}`, percent(us / 1e6, mainBusyS)]),
      ["profile: Python worker CPU", `${workerCpuS.toFixed(1)} s`],
      ...python.map(([name, share]): [string, string] => [`  Python: ${name}`, `${(100 * share).toFixed(1)}% of its busy samples`]),
      ["profile: flame graphs", `${path.relative(ROOT, nodeSvg)}, ${path.relative(ROOT, pythonSvg)}`],
    ];
    fs.rmSync(work, { recursive: true, force: true });
    return {
      results: {
        profile_records_per_s: Math.round(recordsPerS),
        profile_node_cpu_s: round(processCpuS),
        profile_node_js_busy_s: round(mainBusyS),
        profile_python_cpu_s: round(workerCpuS),
        profile_wall_s: round(wallS),
      },
      table,
    };
  } finally {
    await runtime.deploy([]);
    await traffic.close(!broker.owned);
    await broker.stop();
  }
}

/** Folded stacks to an SVG flame graph, drawn by inferno. */
async function flameGraph(folded: string, svg: string, title: string): Promise<void> {
  const drawing = spawn(INFERNO_FLAMEGRAPH, ["--title", title, "--width", "1600"], { stdio: ["pipe", fs.openSync(svg, "w"), "pipe"] });
  let errors = "";
  drawing.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  drawing.stdin?.end(folded);
  const code = await new Promise((resolve) => drawing.once("exit", resolve));
  if (code !== 0) throw new Error(`inferno-flamegraph failed (${String(code)}): ${errors.trim()}`);
}

/** Each category's share of the worker's busy samples (py-spy's folded stacks), by the innermost function that names one. */
function pythonShares(folded: string): [string, number][] {
  const counts = new Map<string, number>();
  let total = 0;
  for (const line of folded.split("\n")) {
    const match = /^(.*) (\d+)$/.exec(line);
    if (!match) continue;
    const samples = Number(match[2]);
    const frames = match[1].split(";").reverse();
    const name = frames.map((frame) => PYTHON_CATEGORIES.find(([, test]) => test.test(frame))?.[0]).find(Boolean) ?? "other (the worker's loop, Python itself)";
    counts.set(name, (counts.get(name) ?? 0) + samples);
    total += samples;
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([name, samples]) => [name, samples / Math.max(1, total)]);
}

function readCommand(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** A process's CPU time so far (user and system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the command
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
