import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, startScratchKafka } from "../lib/embedded-kafka";
import { startSchemaRegistry, type EmbeddedSchemaRegistry } from "../lib/embedded-schema-registry";
import { deployFlows, startNodeRed } from "../lib/node-red-process";
import { childrenOf } from "../lib/processes";
import { spawnTied } from "../lib/tied-process";
import { projectPython } from "../lib/install-python";
import { KAFKA_HOME, ROOT } from "../lib/project";
import { parseBrokerList } from "../../src/kafka/connection";
import { RegistryClient } from "../../src/kafka/schema-registry/registry-client";
import { SchemaEncoder } from "../../src/kafka/schema-registry/serdes";
import { loadLibrdkafka } from "../../src/kafka/engines/librdkafka/load";
import type { EngineChoice } from "../../src/kafka/engines/open-engine";
import { startBareClientPipe } from "./bare-client-pipe";
import { startBareLibrdkafkaPipe } from "./bare-librdkafka-pipe";
import { DEMO_MODEL as MODEL, HOLDOUT_ROWS } from "../lib/demo-model";
import { FlowWatch } from "./flow-watch";
import { KafkaTraffic, PARTITIONS, type OutputTiming } from "./kafka-traffic";
import type { BenchRuntime } from "./node-red-runtime";
import { median, ratio, round, type PassResult } from "./report";

/** Records of the first sizing run; the measured run is sized from the rate to last about BENCH_SECONDS. */
const PROBE_RECORDS = 20_000;
/** Bounds a preloaded topic (and the time spent filling it) whatever the sizing run says. */
const MAX_RECORDS = 1_000_000;
/** A sizing run shorter than this is too coarse for the output polls to time. */
const MIN_PROBE_MS = 500;
const LATENCY_RATE = 1000;
/** The latency phase feeds this long before it counts: a freshly deployed flow starts with a backlog it catches up on. */
const LATENCY_WARM_UP_S = 2;
const TARGETS = { pipelineOverPassthrough: 0.7, passthroughOverBare: 0.7, p99Ms: 50, librdkafkaPipeline: 1.2, librdkafkaBare: 1.3, avroOverJson: 0.8, exactlyOnceOverAtLeastOnce: 0.7, batchOverScript: 1.0 };
/** kafka-in's transaction interval under exactly-once: its p99 may exceed the at-least-once one by twice this. */
const TRANSACTION_INTERVAL_MS = 100;
/** The records the flow whose memory is measured scores (the peak is that of a busy flow, not of its first seconds). */
const MEMORY_RECORDS = 200_000;
/**
 * Each throughput is the median of this many runs, taken in turns (bare, passthrough,
 * change node, pipeline, then again), so that a slow moment of the shared machine
 * moves one run of each and not a whole phase. Single runs of the bare pipe varied
 * from 26k to 56k records/s.
 */
const ROUNDS = 3;

/**
 * "hop": kafka-in -> change -> kafka-out, a core node in the model's place that sets a
 * fixed result: what any node there costs. "avro": the pipeline with the same records
 * and model, read and written in Avro through the Schema Registry. "eos": the pipeline
 * with kafka-in in exactly-once mode (librdkafka engine).
 */
type FlowPhase = "passthrough" | "hop" | "e2e" | "avro" | "eos" | "batch";

/** The phases that score with the model. */
function scores(phase: FlowPhase): boolean {
  return phase === "e2e" || phase === "avro" || phase === "eos" || phase === "batch";
}

const PYTHON_SCRIPT = path.join(ROOT, "scripts", "bench", "python_script.py");
/** Records per model call of the Python script, and per msg and per model call of the batch path. */
const SCRIPT_BATCH = 500;

/** The records of the Avro phase: the JSON phase's `{"features": [...]}`, in Avro. */
const FEATURES_AVRO = { type: "record", name: "Features", namespace: "bench", fields: [{ name: "features", type: { type: "array", items: "double" } }] };
/** What the model writes, in Avro. */
const PREDICTION_AVRO = {
  type: "record",
  name: "Prediction",
  namespace: "bench",
  fields: [
    { name: "label", type: "string" },
    { name: "score", type: "double" },
    { name: "probabilities", type: { type: "array", items: "double" } },
  ],
};

/** The result the change node of the "hop" phase writes: the shape and size of the demo model's. */
const FIXED_RESULT = { label: "versicolor", score: 0.9876543283462524, probabilities: [0.00004566999996313825, 0.9876543283462524, 0.012299999594688416] };

interface ThroughputPhase {
  /** Its name in the JSON line. */
  key: string;
  label: string;
  /** Runs `count` records through; when the output started and ended. */
  time: (count: number) => Promise<OutputTiming>;
}

/**
 * The Kafka side of the benchmark, on a broker of its own (or KAFKA_BROKERS): bare
 * kafkajs and librdkafka pipes as baselines, kafka-in -> kafka-out, kafka-in -> change
 * -> kafka-out, kafka-in -> python-model -> kafka-out on the default engine (auto) and
 * that pipeline on kafkajs, the pipeline's latency at a steady rate, and the peak memory
 * of a Node-RED running it on each engine. Each phase has fresh topics and a fresh
 * consumer group.
 */
export async function kafkaPass(runtime: BenchRuntime, backend: string, seconds: number): Promise<PassResult> {
  const broker = await benchBroker();
  console.log(`[bench] Kafka on ${broker.brokers}${broker.owned ? " (a broker of the benchmark's own)" : ""}`);
  const registryLogs = fs.mkdtempSync(path.join(os.tmpdir(), "bench-registry-"));
  const registry = await startSchemaRegistry({ logFile: path.join(registryLogs, "registry.log") });
  console.log(`[bench] Schema Registry (Apicurio) on ${registry.url}, for the Avro pipeline`);
  // what the kafka-broker node's default, auto, runs on here
  const engine: EngineChoice = "client" in loadLibrdkafka() ? "librdkafka" : "kafkajs";
  try {
    const traffic = await KafkaTraffic.connect(parseBrokerList(broker.brokers));
    const bench = new KafkaBench(runtime, traffic, broker.brokers, registry, backend, seconds);
    const results: Record<string, number | string> = { engine };
    let rounds: Record<string, number[]> = {};
    try {
      const phases: ThroughputPhase[] = [
        { key: "bare_client_records_per_s", label: "bare kafkajs consumer + producer", time: (count) => bench.timeBarePipe("kafkajs", count) },
        ...(engine === "librdkafka"
          ? [{ key: "bare_librdkafka_records_per_s", label: "bare librdkafka consumer + producer", time: (count: number) => bench.timeBarePipe("librdkafka", count) }]
          : []),
        { key: "passthrough_records_per_s", label: `kafka-in -> kafka-out (${engine})`, time: (count) => bench.timeFlow("passthrough", count) },
        { key: "change_node_records_per_s", label: `kafka-in -> change -> kafka-out (${engine})`, time: (count) => bench.timeFlow("hop", count) },
        { key: "e2e_records_per_s", label: `kafka-in -> python-model -> kafka-out (${engine})`, time: (count) => bench.timeFlow("e2e", count) },
        { key: "e2e_batch_records_per_s", label: `kafka-in (a msg per batch of ${SCRIPT_BATCH}) -> python-model -> kafka-out (${engine})`, time: (count) => bench.timeFlow("batch", count) },
        { key: "e2e_avro_records_per_s", label: `kafka-in -> python-model -> kafka-out, Avro in and out (${engine})`, time: (count) => bench.timeFlow("avro", count) },
        ...(engine === "librdkafka"
          ? [
              { key: "e2e_kafkajs_records_per_s", label: "kafka-in -> python-model -> kafka-out (kafkajs)", time: (count: number) => bench.timeFlow("e2e", count, "kafkajs") },
              { key: "e2e_eos_records_per_s", label: "kafka-in -> python-model -> kafka-out, exactly-once (librdkafka)", time: (count: number) => bench.timeFlow("eos", count) },
            ]
          : []),
        { key: "python_script_records_per_s", label: `a plain Python script on confluent-kafka, ${SCRIPT_BATCH} records per model call`, time: (count) => bench.timePythonScript(count) },
      ];
      rounds = await bench.measureInTurns(phases);
      for (const [key, rates] of Object.entries(rounds)) results[key] = Math.round(median(rates));
      const latency = await bench.latencyAtRate(LATENCY_RATE, "e2e");
      results.e2e_p50_ms = round(latency.p50);
      results.e2e_p99_ms = round(latency.p99);
      if (engine === "librdkafka") {
        const eosLatency = await bench.latencyAtRate(LATENCY_RATE, "eos");
        results.e2e_eos_p50_ms = round(eosLatency.p50);
        results.e2e_eos_p99_ms = round(eosLatency.p99);
      }
      results.rss_mb = await bench.peakMemory(engine);
      if (engine === "librdkafka") results.rss_mb_kafkajs = await bench.peakMemory("kafkajs");
    } finally {
      // the flow's consumers must leave before the broker goes, or they retry against nothing
      await runtime.deploy([]);
      await traffic.close(!broker.owned);
    }
    return { results, table: table(results as Record<string, number>, rounds, engine) };
  } finally {
    await broker.stop();
    await registry.stop();
    fs.rmSync(registryLogs, { recursive: true, force: true });
  }
}

/** KAFKA_BROKERS, else a scratch broker on free ports whose data goes with it. */
export async function benchBroker(): Promise<{ brokers: string; owned: boolean; stop(): Promise<void> }> {
  const given = process.env.KAFKA_BROKERS;
  if (given) return { brokers: given, owned: false, stop: async () => undefined };
  const scratch = await startScratchKafka(path.join(KAFKA_HOME, `bench-${process.pid}`));
  return { brokers: scratch.brokers, owned: true, stop: () => scratch.stop() };
}

export class KafkaBench {
  private readonly watch: FlowWatch;

  constructor(
    private readonly runtime: BenchRuntime,
    private readonly traffic: KafkaTraffic,
    private readonly brokers: string,
    /** For the Avro phase; the other phases run without. */
    private readonly registry: Pick<EmbeddedSchemaRegistry, "url"> | undefined,
    private readonly backend: string,
    private readonly seconds: number,
  ) {
    this.watch = new FlowWatch(runtime);
  }

  /** The held-out rows in Avro, framed for the registry; the schema registered under the topic's subject. */
  private async avroRecords(topic: string): Promise<Buffer[]> {
    if (!this.registry) throw new Error("the Avro phase needs a schema registry");
    const encoder = new SchemaEncoder(new RegistryClient({ urls: [this.registry.url] }), {
      strategy: "topic",
      use: { register: { schemaType: "AVRO", schema: JSON.stringify(FEATURES_AVRO), references: [] } },
    });
    await encoder.prepare(topic);
    return HOLDOUT_ROWS.map(({ features }) => encoder.encode(topic, { features }));
  }

  /** Sizes a run of each phase, then runs the phases in turns ROUNDS times; each phase's records/s, round by round. */
  async measureInTurns(phases: ThroughputPhase[]): Promise<Record<string, number[]>> {
    const counts = new Map<ThroughputPhase, number>();
    for (const phase of phases) counts.set(phase, await this.size(phase));
    const rates = new Map<ThroughputPhase, number[]>(phases.map((phase) => [phase, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const phase of phases) {
        const count = counts.get(phase) as number;
        const run = await phase.time(count);
        const perSecond = (run.records * 1000) / run.ms;
        rates.get(phase)?.push(perSecond);
        console.log(`[bench] ${phase.label}, round ${round}/${ROUNDS}: ${Math.round(perSecond)} records/s (${count} records, timed ${(run.ms / 1000).toFixed(1)} s)`);
      }
    }
    return Object.fromEntries(phases.map((phase) => [phase.key, rates.get(phase) ?? []]));
  }

  /** Sizing runs, ten times larger each until one lasts long enough to time: the records for a run of about `seconds`. */
  private async size(phase: ThroughputPhase): Promise<number> {
    let probe: OutputTiming = { records: 0, ms: 0 };
    for (let count = PROBE_RECORDS; probe.ms < MIN_PROBE_MS && count <= MAX_RECORDS; count *= 10) probe = await phase.time(count);
    if (probe.ms === 0) throw new Error(`${phase.label}: ${MAX_RECORDS} records went through between two polls, too fast to time`);
    const probeRate = (probe.records * 1000) / probe.ms;
    console.log(`[bench] ${phase.label}, sizing run: ${Math.round(probeRate)} records/s`);
    return Math.min(MAX_RECORDS, Math.max(PROBE_RECORDS, Math.round(probeRate * this.seconds)));
  }

  async timeBarePipe(engine: EngineChoice, count: number): Promise<OutputTiming> {
    const { input, output } = await this.traffic.freshTopics("bare");
    await this.traffic.preload(input, count);
    const groupId = this.traffic.uniqueName("group");
    const start = engine === "kafkajs" ? startBareClientPipe : startBareLibrdkafkaPipe;
    const pipe = await start({ brokers: parseBrokerList(this.brokers), from: input, to: output, groupId, partitions: PARTITIONS });
    try {
      return await this.traffic.awaitOutput(output, count, () => undefined);
    } finally {
      await pipe.stop();
    }
  }

  /** The script a user would write instead of the flow (scripts/bench/python_script.py), on the same records and model. */
  async timePythonScript(count: number): Promise<OutputTiming> {
    const { input, output } = await this.traffic.freshTopics("script");
    await this.traffic.preload(input, count);
    const script = spawnTied(
      projectPython(),
      [PYTHON_SCRIPT, "--brokers", this.brokers, "--input", input, "--output", output, "--group", this.traffic.uniqueName("group"), "--model", MODEL, "--backend", this.backend, "--batch", String(SCRIPT_BATCH)],
      { stdout: "ignore", stderr: "pipe" },
    );
    let stderr = "";
    script.child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    let exited: number | null | undefined;
    void script.exited.then((code) => (exited = code));
    try {
      return await this.traffic.awaitOutput(output, count, () => (exited === undefined ? undefined : `python_script.py exited (${exited}): ${stderr}`));
    } finally {
      await script.stop(5000);
    }
  }

  /** The flow reads a topic filled beforehand, so that it runs as fast as it can. */
  async timeFlow(phase: FlowPhase, count: number, engine: EngineChoice = "auto"): Promise<OutputTiming> {
    const { input, output } = await this.traffic.freshTopics(phase);
    await this.traffic.preload(input, count, phase === "avro" ? await this.avroRecords(input) : undefined);
    await this.deployFlow(phase, input, output, engine);
    return this.traffic.awaitOutput(output, count, () => this.watch.failure);
  }

  /**
   * The peak memory (VmHWM, in MB) of a Node-RED process of its own whose pipeline, on
   * this engine, scores MEMORY_RECORDS records: the Kafka client's share differs by
   * engine; the model's worker is a process apart and not counted.
   */
  async peakMemory(engine: EngineChoice): Promise<number> {
    const { input, output } = await this.traffic.freshTopics("memory");
    await this.traffic.preload(input, MEMORY_RECORDS);
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-memory-"));
    const nodeRed = await startNodeRed({ userDir, port: await freePort() });
    try {
      const kafkaIn = { id: "in", type: "kafka-in", z: "bench", broker: "broker", topic: input, groupId: this.traffic.uniqueName("group"), fromBeginning: true, wires: [["model"]] };
      // bench-sink exists in the benchmark's own runtime only: its nodes stay out
      const flow = this.flowWithoutInput("e2e", output, engine).filter((node) => !["catcher", "failures", "watcher", "statuses"].includes((node as { id: string }).id));
      await deployFlows(nodeRed.url, [...flow, kafkaIn]);
      await this.traffic.awaitOutput(output, MEMORY_RECORDS, () => undefined);
      // the watchdog shell's one child is Node-RED
      const [node] = childrenOf(nodeRed.pid as number);
      const peakKb = Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${node}/status`, "utf8"))?.[1]);
      console.log(`[bench] peak memory of Node-RED running the pipeline on ${engine}: ${Math.round(peakKb / 1024)} MB (${MEMORY_RECORDS} records)`);
      return Math.round(peakKb / 1024);
    } finally {
      await nodeRed.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  }

  /**
   * The whole pipeline fed `perSecond` records a second for `seconds` after a warm-up;
   * end-to-end latency percentiles in ms of the records sent after the warm-up.
   */
  async latencyAtRate(perSecond: number, phase: "e2e" | "eos"): Promise<{ p50: number; p99: number }> {
    const { input, output } = await this.traffic.freshTopics(`${phase}-latency`);
    await this.deployFlow(phase, input, output);
    // green once in its group (throughput phases do not wait for it: under back-pressure it turns yellow)
    await this.watch.untilGreen(["in"]);
    const count = perSecond * (LATENCY_WARM_UP_S + this.seconds);
    // exactly-once results count from when a read_committed reader gets them (their transaction committed), not from when they were written
    const reader = this.traffic.readLatencies(output, count, phase === "eos" ? "arrival" : "append");
    await reader.joined;
    const start = Date.now();
    await this.traffic.feedAtRate(input, perSecond, LATENCY_WARM_UP_S + this.seconds);
    await this.traffic.awaitOutput(output, count, () => this.watch.failure);
    const samples = await reader.samples;
    const measuredFrom = start + LATENCY_WARM_UP_S * 1000;
    const warmUp = samples.filter((sample) => sample.sentAt < measuredFrom).map((sample) => sample.ms);
    const latencies = samples.filter((sample) => sample.sentAt >= measuredFrom).map((sample) => sample.ms);
    latencies.sort((a, b) => a - b);
    const at = (share: number): number => latencies[Math.floor(latencies.length * share)];
    console.log(
      `[bench] kafka-in -> python-model -> kafka-out${phase === "eos" ? ", exactly-once," : ""} at ${perSecond} records/s: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${latencies[latencies.length - 1]} ms` +
        ` (${latencies.length} records; the ${warmUp.length} of the first ${LATENCY_WARM_UP_S} s not counted, max ${Math.max(...warmUp)} ms)`,
    );
    return { p50: at(0.5), p99: at(0.99) };
  }

  /**
   * Deploys the flow without kafka-in and waits until it is ready, so that no phase
   * times a model loading or a producer connecting; then adds kafka-in, which starts
   * reading at once.
   */
  async deployFlow(phase: FlowPhase, input: string, output: string, engine: EngineChoice = "auto"): Promise<void> {
    await (await this.readyFlow(phase, input, output, engine)).addInput();
  }

  /** Deploys the flow without kafka-in and waits until it is ready; addInput() deploys kafka-in. */
  async readyFlow(phase: FlowPhase, input: string, output: string, engine: EngineChoice = "auto"): Promise<{ addInput(): Promise<void> }> {
    this.watch.reset();
    const flow = this.flowWithoutInput(phase, output, engine);
    await this.runtime.deploy(flow);
    await this.watch.untilGreen(scores(phase) ? ["model", "out"] : ["out"]);
    // every other setting is the node's default: at-least-once, JSON values, max unsettled 2000
    const format = phase === "avro" ? { payloadFormat: "schema-registry", registry: "registry" } : {};
    const delivery = phase === "eos" ? { deliveryMode: "exactly-once" } : {};
    const batches = phase === "batch" ? { outputMode: "batch", batchRecords: SCRIPT_BATCH } : {};
    const kafkaIn = { id: "in", type: "kafka-in", z: "bench", broker: "broker", topic: input, groupId: this.traffic.uniqueName("group"), fromBeginning: true, ...format, ...delivery, ...batches };
    return { addInput: () => this.runtime.deploy([...flow, { ...kafkaIn, wires: [[phase === "passthrough" ? "out" : "model"]] }], "nodes") };
  }

  private flowWithoutInput(phase: FlowPhase, output: string, engine: EngineChoice): object[] {
    const change = { id: "model", type: "change", z: "bench", rules: [{ t: "set", p: "payload", pt: "msg", to: JSON.stringify(FIXED_RESULT), tot: "json" }], wires: [["out"]] };
    // the batch path scores as many rows per model call as the Python script does
    const model = { id: "model", type: "python-model", z: "bench", python: projectPython(), kind: "keras", modelPath: MODEL, backend: this.backend, wires: [["out"]], ...(phase === "batch" ? { batchSize: SCRIPT_BATCH } : {}) };
    // the prediction's schema registered at the first record, as the Avro example does
    const avroOut = { valueFormat: "schema-registry", registry: "registry", schemaSource: "register", schemaType: "AVRO", schemaText: JSON.stringify(PREDICTION_AVRO) };
    return [
      { id: "bench", type: "tab", label: "kafka bench" },
      { id: "broker", type: "kafka-broker", brokers: this.brokers, clientId: "bench", engine },
      ...(this.registry ? [{ id: "registry", type: "schema-registry", urls: this.registry.url, auth: "none" }] : []),
      ...(scores(phase) ? [model] : []),
      ...(phase === "hop" ? [change] : []),
      // acks all, no compression: the defaults
      { id: "out", type: "kafka-out", z: "bench", broker: "broker", topic: output, wires: [], ...(phase === "avro" ? avroOut : {}) },
      { id: "catcher", type: "catch", z: "bench", scope: null, uncaught: false, wires: [["failures"]] },
      { id: "failures", type: "bench-sink", z: "bench", channel: "failed", wires: [] },
      { id: "watcher", type: "status", z: "bench", scope: null, wires: [["statuses"]] },
      { id: "statuses", type: "bench-sink", z: "bench", channel: "status", wires: [] },
    ];
  }
}

/**
 * The Kafka rows of the printed table: figures, ratios, and whether each target is met.
 * A ratio's verdict is taken on the medians; the ratio of each round's pair of runs
 * follows it, to show how far the shared machine moved it.
 */
function table(results: Record<string, number>, rounds: Record<string, number[]>, engine: EngineChoice): [string, string][] {
  const verdict = (value: number, target: number, higherIsBetter: boolean): string =>
    (higherIsBetter ? value >= target : value <= target) ? "target met" : "target missed";
  const { passthrough_records_per_s: passthrough, change_node_records_per_s: hop, e2e_records_per_s: e2e } = results;
  // kafka-in -> kafka-out against the bare pipe on the same engine
  const bareKey = engine === "librdkafka" ? "bare_librdkafka_records_per_s" : "bare_client_records_per_s";
  const bare = results[bareKey];
  const byRound = (over: string, under: string): string => `by round ${(rounds[over] ?? []).map((rate, index) => ratio(rate, rounds[under][index])).join(", ")}`;
  const engineRows: [string, string][] =
    engine !== "librdkafka"
      ? []
      : [
          ["Kafka: bare librdkafka consumer + producer", `${bare} records/s`],
          ["Kafka: kafka-in -> python-model -> kafka-out (kafkajs)", `${results.e2e_kafkajs_records_per_s} records/s`],
          [
            "librdkafka / kafkajs: bare pipes",
            `${ratio(bare, results.bare_client_records_per_s)} (>= ${TARGETS.librdkafkaBare}x: ${verdict(bare / results.bare_client_records_per_s, TARGETS.librdkafkaBare, true)}; ${byRound(bareKey, "bare_client_records_per_s")})`,
          ],
          [
            "librdkafka / kafkajs: pipelines",
            `${ratio(e2e, results.e2e_kafkajs_records_per_s)} (>= ${TARGETS.librdkafkaPipeline}x: ${verdict(e2e / results.e2e_kafkajs_records_per_s, TARGETS.librdkafkaPipeline, true)}; ${byRound("e2e_records_per_s", "e2e_kafkajs_records_per_s")})`,
          ],
          [`Kafka: kafka-in -> python-model -> kafka-out, exactly-once (librdkafka)`, `${results.e2e_eos_records_per_s} records/s`],
          [
            "exactly-once / at-least-once pipelines",
            `${ratio(results.e2e_eos_records_per_s, e2e)} (>= ${TARGETS.exactlyOnceOverAtLeastOnce}x: ${verdict(results.e2e_eos_records_per_s / e2e, TARGETS.exactlyOnceOverAtLeastOnce, true)}; ${byRound("e2e_eos_records_per_s", "e2e_records_per_s")})`,
          ],
          [
            `Kafka: exactly-once e2e latency at ${LATENCY_RATE} records/s, p50 / p99`,
            `${results.e2e_eos_p50_ms} / ${results.e2e_eos_p99_ms} ms (p99 <= 2 x ${TRANSACTION_INTERVAL_MS} ms + the at-least-once p99: ${verdict(results.e2e_eos_p99_ms, 2 * TRANSACTION_INTERVAL_MS + results.e2e_p99_ms, false)})`,
          ],
          [
            "peak memory of Node-RED running the pipeline",
            `${results.rss_mb} MB on librdkafka, ${results.rss_mb_kafkajs} MB on kafkajs (no more than kafkajs: ${verdict(results.rss_mb, results.rss_mb_kafkajs, false)})`,
          ],
        ];
  return [
    ["Kafka: bare kafkajs consumer + producer", `${results.bare_client_records_per_s} records/s (median of ${ROUNDS} runs, as those below)`],
    [`Kafka: kafka-in -> kafka-out (${engine})`, `${passthrough} records/s`],
    [`Kafka: kafka-in -> change -> kafka-out (${engine})`, `${hop} records/s`],
    [`Kafka: kafka-in -> python-model -> kafka-out (${engine})`, `${e2e} records/s`],
    ...engineRows,
    [
      `Kafka: e2e latency at ${LATENCY_RATE} records/s, p50 / p99`,
      `${results.e2e_p50_ms} / ${results.e2e_p99_ms} ms (p99 <= ${TARGETS.p99Ms} ms: ${verdict(results.e2e_p99_ms, TARGETS.p99Ms, false)})`,
    ],
    [
      "pipeline / passthrough",
      `${ratio(e2e, passthrough)} (>= ${TARGETS.pipelineOverPassthrough}x: ${verdict(e2e / passthrough, TARGETS.pipelineOverPassthrough, true)}; ${byRound("e2e_records_per_s", "passthrough_records_per_s")})`,
    ],
    [`Kafka: kafka-in -> python-model -> kafka-out, Avro in and out (${engine})`, `${results.e2e_avro_records_per_s} records/s`],
    [
      "Avro / JSON pipelines",
      `${ratio(results.e2e_avro_records_per_s, e2e)} (>= ${TARGETS.avroOverJson}x: ${verdict(results.e2e_avro_records_per_s / e2e, TARGETS.avroOverJson, true)}; ${byRound("e2e_avro_records_per_s", "e2e_records_per_s")})`,
    ],
    [`Kafka: a plain Python script on confluent-kafka (consume ${SCRIPT_BATCH}, one model call, produce, commit)`, `${results.python_script_records_per_s} records/s`],
    [`pipeline (${engine}) / Python script (no target)`, `${ratio(e2e, results.python_script_records_per_s)} (${byRound("e2e_records_per_s", "python_script_records_per_s")})`],
    [`Kafka: kafka-in (a msg per batch of ${SCRIPT_BATCH}) -> python-model -> kafka-out (${engine})`, `${results.e2e_batch_records_per_s} records/s`],
    [
      "batch path / Python script",
      `${ratio(results.e2e_batch_records_per_s, results.python_script_records_per_s)} (>= ${TARGETS.batchOverScript}x: ${verdict(results.e2e_batch_records_per_s / results.python_script_records_per_s, TARGETS.batchOverScript, true)}; ${byRound("e2e_batch_records_per_s", "python_script_records_per_s")})`,
    ],
    ["batch path / per-record pipeline (no target)", `${ratio(results.e2e_batch_records_per_s, e2e)} (${byRound("e2e_batch_records_per_s", "e2e_records_per_s")})`],
    ["change node / passthrough (no target)", `${ratio(hop, passthrough)} (${byRound("change_node_records_per_s", "passthrough_records_per_s")})`],
    [
      `passthrough / bare client (${engine})`,
      `${ratio(passthrough, bare)} (>= ${TARGETS.passthroughOverBare}x: ${verdict(passthrough / bare, TARGETS.passthroughOverBare, true)}; ${byRound("passthrough_records_per_s", bareKey)})`,
    ],
  ];
}
