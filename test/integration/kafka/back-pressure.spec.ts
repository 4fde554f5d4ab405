import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../scripts/lib/embedded-kafka";
import { startNodeRed, type NodeRedProcess } from "../../../scripts/lib/node-red-process";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel } from "../../support/node-red-helper";
import { HEAP_PROBE_ENV, installHeapProbe, readHeapProbe, type HeapReading } from "../../support/heap-probe";
import { createTopic, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { PYTHON, waitFor, writeHandler } from "../../support/python";

/** A model that sleeps `msPerRow` a row: far slower than kafka-in reads. */
function slowModel(msPerRow: number): string {
  return `import time\n\ndef load(path, config):\n    return None\n\ndef predict(model, batch):\n    time.sleep(${msPerRow / 1000} * len(batch))\n    return [len(row) for row in batch]\n`;
}

interface Acknowledged {
  key: string;
}

interface SlowRun {
  /** The most records emitted by kafka-in and not yet acknowledged by the broker at any one time. */
  maxInFlight: number;
  /** Times kafka-in showed the paused status. */
  pauses: number;
  /** Distinct keys kafka-out reported written. */
  written: number;
  errors: unknown[];
}

/** kafka-in -> slow model -> kafka-out over a pre-loaded topic, counting what is in flight. */
async function runSlowPipeline(partitions: number, records: number, maxUnsettled: number): Promise<SlowRun> {
  const input = uniqueName("slow-in");
  const output = uniqueName("slow-out");
  await createTopic(input, partitions);
  await createTopic(output, 1);
  await produce(input, Array.from({ length: records }, (_, index) => ({ key: `k${index}`, value: "[6.0, 2.2, 5.0, 1.5]" })));

  await helper.load(
    [kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode],
    [
      { id: "bp-flow", type: "tab" },
      { id: "bp-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "back-pressure-test" },
      { id: "bp-reader", type: "kafka-in", z: "bp-flow", broker: "bp-broker", topic: input, groupId: uniqueName("slow-group"), fromBeginning: true, payloadFormat: "json", maxUnsettled, wires: [["bp-emitted", "bp-model"]] },
      { id: "bp-emitted", type: "helper", z: "bp-flow" },
      { id: "bp-model", type: "python-model", z: "bp-flow", kind: "python", handlerPath: writeHandler("slow_model", slowModel(2)), python: PYTHON, batchSize: 10, maxWaitMs: 5, timeoutMs: 30000, wires: [["bp-writer"]] },
      { id: "bp-writer", type: "kafka-out", z: "bp-flow", broker: "bp-broker", topic: output, acks: "all", metadata: true, wires: [["bp-acknowledged"]] },
      { id: "bp-acknowledged", type: "helper", z: "bp-flow" },
      { id: "bp-catch", type: "catch", z: "bp-flow", scope: null, uncaught: false, wires: [["bp-errors"]] },
      { id: "bp-errors", type: "helper", z: "bp-flow" },
    ],
  );
  let emitted = 0;
  let acknowledged = 0;
  const run: SlowRun = { maxInFlight: 0, pauses: 0, written: 0, errors: [] };
  const written = new Set<string>();
  // in flight only grows when kafka-in emits, so sampling at each emission sees every peak
  helper.getNode("bp-emitted").on("input", () => {
    emitted++;
    run.maxInFlight = Math.max(run.maxInFlight, emitted - acknowledged);
  });
  helper.getNode("bp-acknowledged").on("input", (msg: Acknowledged) => {
    acknowledged++;
    written.add(msg.key);
    run.written = written.size;
  });
  helper.getNode("bp-errors").on("input", (msg: unknown) => run.errors.push(msg));
  helper.getNode("bp-reader").on("call:status", (call: { args: [{ text?: string }] }) => {
    if (/^paused/.test(call.args[0].text ?? "")) run.pauses++;
  });
  await waitFor(() => run.written === records || run.errors.length > 0, 90_000, `${records} records acknowledged by the broker`);
  return run;
}

/** kafka-in's max unsettled bound with a slow model between it and kafka-out. */
describe(`back-pressure from a slow model (real broker, real Python) [${TEST_ENGINE} engine]`, function () {
  this.timeout(120_000);
  const MAX_UNSETTLED = 50;
  const RECORDS = 1000;
  afterEach(async () => {
    await helper.unload();
  });

  it("never has more than max unsettled records between kafka-in and kafka-out's acknowledgement, and delivers all", async () => {
    const run = await runSlowPipeline(1, RECORDS, MAX_UNSETTLED);
    assert.deepEqual(run.errors, []);
    assert.equal(run.written, RECORDS, "every record was written");
    assert.ok(run.pauses > 0, "kafka-in paused: the bound, not the end of the topic, held it back");
    assert.ok(run.maxInFlight <= MAX_UNSETTLED, `${run.maxInFlight} records in flight at once, more than max unsettled ${MAX_UNSETTLED}`);
  });

  it("holds the same bound when one fetch brings records of several partitions", async () => {
    // kafkajs hands over the first record of every partition's batch of a fetch, paused or not
    const run = await runSlowPipeline(4, RECORDS, MAX_UNSETTLED);
    assert.deepEqual(run.errors, []);
    assert.equal(run.written, RECORDS, "every record was written");
    assert.ok(run.maxInFlight <= MAX_UNSETTLED, `${run.maxInFlight} records in flight at once, more than max unsettled ${MAX_UNSETTLED}`);
  });
});

/** `count` records of about 1 KB each, keyed from `first` on. */
async function produceKilobyteRecords(topic: string, first: number, count: number): Promise<void> {
  const padding = "x".repeat(1000);
  // in chunks, so that each partition's batch stays below the broker's 1 MB limit
  for (let start = first; start < first + count; start += 2000) {
    const indexes = Array.from({ length: Math.min(2000, first + count - start) }, (_, offset) => start + offset);
    await produce(topic, indexes.map((index) => ({ key: `k${index}`, value: JSON.stringify({ features: [6.0, 2.2, 5.0, 1.5], padding: `${padding}${index}` }) })));
  }
}

describe(`memory with a slow model and a large backlog (real Node-RED process, real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(180_000);
  const WARM_UP = 500;
  const BACKLOG = 20_000;
  const MAX_UNSETTLED = 1000; // the default
  /**
   * How far the live heap may rise above its idle level while the backlog waits. Measured
   * here: 5 MB at most with the bound (1,000 msgs in flight and kafkajs's fetch buffers);
   * with max unsettled raised past the backlog, 59 MB within the first 2,000 records (and
   * python-model then fails records beyond its 10,000 waiting).
   * 10 MB is half the backlog's raw payload.
   */
  const HEAP_GROWTH_BOUND = 10e6;
  let nodeRed: NodeRedProcess | undefined;
  after(async () => {
    await nodeRed?.stop();
  });

  it("keeps the runtime's heap flat while a slow model works through 20,000 records of 1 KB", async () => {
    const input = uniqueName("backlog-in");
    const output = uniqueName("backlog-out");
    await createTopic(input, 4);
    await createTopic(output, 1);
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "node-red-backlog-"));
    installHeapProbe(userDir);
    const runtime = await startNodeRed({
      userDir,
      port: await freePort(),
      env: HEAP_PROBE_ENV,
      flows: [
        { id: "mem-flow", type: "tab", label: "backlog" },
        { id: "mem-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "backlog-test" },
        { id: "mem-reader", type: "kafka-in", z: "mem-flow", broker: "mem-broker", topic: input, groupId: uniqueName("backlog-group"), fromBeginning: true, payloadFormat: "json", maxUnsettled: MAX_UNSETTLED, wires: [["mem-model"]] },
        // scores payload.features into msg.score, so the 1 KB payload travels on to kafka-out
        { id: "mem-model", type: "python-model", z: "mem-flow", kind: "python", handlerPath: writeHandler("slow_model", slowModel(1)), python: PYTHON, batchSize: 100, maxWaitMs: 5, timeoutMs: 30000, featuresProperty: "payload.features", outputProperty: "score", wires: [["mem-writer"]] },
        { id: "mem-writer", type: "kafka-out", z: "mem-flow", broker: "mem-broker", topic: output, acks: "all", metadata: true, wires: [["mem-probe"]] },
        { id: "mem-probe", type: "heap-probe", z: "mem-flow", wires: [] },
        { id: "mem-catch", type: "catch", z: "mem-flow", scope: null, uncaught: false, wires: [["mem-failures"]] },
        { id: "mem-failures", type: "heap-probe", z: "mem-flow", wires: [] },
      ],
    });
    nodeRed = runtime;
    const failures = async (): Promise<number> => (await readHeapProbe(runtime.url, "mem-failures")).count;

    // a first few hundred records warm every stage up; then, with nothing in flight, the idle heap
    await produceKilobyteRecords(input, 0, WARM_UP);
    await waitFor(async () => (await readHeapProbe(runtime.url, "mem-probe")).count >= WARM_UP || (await failures()) > 0, 60_000, "the warm-up records written");
    const idle = await readHeapProbe(runtime.url, "mem-probe");
    assert.ok(idle.collected, "Node-RED runs with --expose-gc, so each reading is the live heap");

    // the slow model scores 1,000 records a second; the backlog is written in about two
    await produceKilobyteRecords(input, WARM_UP, BACKLOG);
    const samples: HeapReading[] = [];
    await waitFor(
      async () => {
        const reading = await readHeapProbe(runtime.url, "mem-probe");
        samples.push(reading);
        return reading.count >= WARM_UP + BACKLOG || (await failures()) > 0;
      },
      150_000,
      `${BACKLOG} records written`,
    );
    assert.equal(await failures(), 0, "no record failed");
    assert.ok(samples.length >= 10, `${samples.length} readings while the backlog was worked through`);
    const peak = samples.reduce((highest, sample) => (sample.heapUsed > highest.heapUsed ? sample : highest));
    const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
    const summary = `heap ${megabytes(idle.heapUsed)} idle after the warm-up, peak ${megabytes(peak.heapUsed)} after ${peak.count} records, ${megabytes(samples[samples.length - 1].heapUsed)} at the end`;
    console.log(`      (${summary})`);
    assert.ok(peak.heapUsed - idle.heapUsed < HEAP_GROWTH_BOUND, `the heap grew with the backlog: ${summary}`);
  });
});
