import * as assert from "node:assert/strict";
import type { BatchMessage } from "../../../src/kafka/record-batches";
import { Kafka, logLevel } from "kafkajs";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, waitForStatus } from "../../support/node-red-helper";
import { committedOffset, committedOffsets, consume, createTopic, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { PETAL_RULES, PYTHON, waitFor, writeHandler } from "../../support/python";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require("@node-red/nodes/core/function/10-function.js") as object;

interface Caught {
  payload: unknown;
  errors?: { index: number; offset?: string; error: string }[];
  kafka?: { offsets?: string[] };
  error: { message: string; source?: { id: string } };
}

interface BatchFlowOptions {
  batchRecords: number;
  batchWaitMs?: number;
  maxUnsettled?: number;
  deadLetterTopic?: string;
  handlerPath?: string;
  modelBatch?: number;
  /** A function node between the model and kafka-out. */
  between?: string;
}

/** kafka-in (one msg per batch) -> python-model -> [function] -> kafka-out, with helpers seeing kafka-in's msgs, kafka-out's acknowledgements and Catch. */
function batchFlow(input: string, output: string, groupId: string, options: BatchFlowOptions): object[] {
  const afterModel = options.between ? "bt-between" : "bt-writer";
  return [
    { id: "bt-flow", type: "tab" },
    { id: "bt-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "batch-path-test" },
    {
      id: "bt-reader",
      type: "kafka-in",
      z: "bt-flow",
      broker: "bt-broker",
      topic: input,
      groupId,
      fromBeginning: true,
      payloadFormat: "json",
      deliveryMode: "at-least-once",
      outputMode: "batch",
      batchRecords: options.batchRecords,
      batchWaitMs: options.batchWaitMs ?? 100,
      maxUnsettled: options.maxUnsettled ?? 2000,
      deadLetterTopic: options.deadLetterTopic ?? "",
      wires: [["bt-seen", "bt-model"]],
    },
    { id: "bt-seen", type: "helper", z: "bt-flow" },
    { id: "bt-model", type: "python-model", z: "bt-flow", python: PYTHON, kind: "python", handlerPath: options.handlerPath ?? PETAL_RULES, batchSize: options.modelBatch ?? 500, maxWaitMs: 5, timeoutMs: 30000, wires: [[afterModel]] },
    ...(options.between ? [{ id: "bt-between", type: "function", z: "bt-flow", func: options.between, outputs: 1, wires: [["bt-writer"]] }] : []),
    { id: "bt-writer", type: "kafka-out", z: "bt-flow", broker: "bt-broker", topic: output, acks: "all", metadata: true, wires: [["bt-acknowledged"]] },
    { id: "bt-acknowledged", type: "helper", z: "bt-flow" },
    { id: "bt-catch", type: "catch", z: "bt-flow", scope: null, uncaught: false, wires: [["bt-errors"]] },
    { id: "bt-errors", type: "helper", z: "bt-flow" },
  ];
}

const petalRow = (index: number): string => JSON.stringify([5.0 + (index % 3), 3.4, 1.5 + (index % 5), 0.2]);

/** kafka-in's "one message per batch" through python-model and kafka-out, on a real broker with a real Python. */
describe(`the batch path: one msg per batch of records (real broker, real Python) [${TEST_ENGINE} engine]`, function () {
  this.timeout(180_000);
  afterEach(async () => {
    await helper.unload();
  });

  it("emits arrays of up to the batch size, scores their rows, and writes one record per row with its key and headers; a function node maps over the array", async () => {
    const input = uniqueName("batch-in");
    const output = uniqueName("batch-out");
    const group = uniqueName("batch-group");
    await Promise.all([createTopic(input, 3), createTopic(output, 1)]);
    const count = 1200;
    await produce(input, Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: petalRow(index), headers: { trace: `t${index}` } })));
    const mapOver = "msg.payload = msg.payload.map((result, index) => ({ ...result, key: msg.kafka.keys[index] })); return msg;";
    await helper.load([kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode, functionNode], batchFlow(input, output, group, { batchRecords: 100, between: mapOver }));
    const seen: BatchMessage[] = [];
    helper.getNode("bt-seen").on("input", (msg: BatchMessage) => seen.push(msg));
    const caught: Caught[] = [];
    helper.getNode("bt-errors").on("input", (msg: Caught) => caught.push(msg));

    const records = await consume(output, count, 120_000);
    const byKey = new Map(records.map((record) => [String(record.key), record]));
    assert.equal(byKey.size, count, "one output record per input record");
    for (const [key, record] of byKey) {
      const result = JSON.parse(String(record.value)) as { label: unknown; key: string };
      assert.equal(typeof result.label, "string", `a prediction for ${key}`);
      assert.equal(result.key, key, "the function node saw each row's key beside its result");
      assert.equal(String(record.headers?.trace), `t${key.slice(1)}`, "the record's own headers");
    }
    assert.deepEqual(caught, []);
    const rows = seen.reduce((sum, msg) => sum + msg.payload.length, 0);
    assert.equal(rows, count, "kafka-in emitted every record once, in batches");
    assert.ok(seen.length < count / 10, `${seen.length} msgs for ${count} records`);
    assert.equal(Math.max(...seen.map((msg) => msg.payload.length)), 100, "a backlog fills batches up to the batch size");
    for (const msg of seen) {
      const { offsets, keys, headers, timestamps, offset, lastOffset, partition } = msg.kafka;
      assert.ok([offsets, keys, headers, timestamps].every((values) => values.length === msg.payload.length), "msg.kafka has a value per row");
      assert.equal(offset, offsets[0]);
      assert.equal(lastOffset, offsets.at(-1));
      assert.equal(msg.partition, partition);
      assert.ok(offsets.every((value, index) => index === 0 || BigInt(value) > BigInt(offsets[index - 1])), "in offset order");
    }
    const committed = async (): Promise<number> => [...(await committedOffsets(group, input)).values()].reduce((sum, offset) => sum + Number(offset), 0);
    await waitFor(async () => (await committed()) === count, 15_000, "every record committed");
  });

  it("takes failed rows out of the batch: Catch gets them as one error, each is dead-lettered byte for byte with its own headers, and the others are written", async () => {
    const input = uniqueName("batch-dlq-in");
    const output = uniqueName("batch-dlq-out");
    const deadLetters = uniqueName("batch-dlq");
    const group = uniqueName("batch-dlq-group");
    await Promise.all([createTopic(input, 1), createTopic(output, 1), createTopic(deadLetters, 1)]);
    const broken = new Set([3]);
    const short = new Set([7, 12]);
    const value = (index: number): string => (broken.has(index) ? "{oops" : short.has(index) ? "[1.0, 2.0]" : petalRow(index));
    await produce(input, Array.from({ length: 20 }, (_, index) => ({ key: `k${index}`, value: value(index), headers: { trace: `t${index}` } })));
    await helper.load([kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode], batchFlow(input, output, group, { batchRecords: 100, deadLetterTopic: deadLetters }));
    const caught: Caught[] = [];
    helper.getNode("bt-errors").on("input", (msg: Caught) => caught.push(msg));

    const letters = await consume(deadLetters, 3, 60_000);
    const written = await consume(output, 17, 60_000);
    assert.deepEqual(new Set(written.map((record) => String(record.key))), new Set(Array.from({ length: 20 }, (_, index) => index).filter((index) => !broken.has(index) && !short.has(index)).map((index) => `k${index}`)));
    const byKey = new Map(letters.map((letter) => [String(letter.key), letter]));
    for (const index of [...broken, ...short]) {
      const letter = byKey.get(`k${index}`);
      assert.equal(String(letter?.value), value(index), "the record's value byte for byte");
      assert.equal(String(letter?.headers?.trace), `t${index}`, "its own headers");
      assert.equal(String(letter?.headers?.["dlq.source.offset"]), String(index));
      assert.equal(String(letter?.headers?.["dlq.node"]), broken.has(index) ? "bt-reader" : "bt-model");
    }
    assert.match(String(byKey.get("k7")?.headers?.["dlq.error"]), /ValueError: expected 4 features/);
    await waitFor(() => caught.length >= 2, 10_000, "the broken record and the failed rows at Catch");
    const fromModel = caught.filter((msg) => msg.error.source?.id === "bt-model");
    assert.equal(fromModel.reduce((sum, msg) => sum + (msg.errors?.length ?? 0), 0), 2, "both short rows reported by the model");
    for (const msg of fromModel) {
      assert.match(msg.error.message, /rows failed: row \d+ \(offset (7|12)\): ValueError/);
      assert.deepEqual(msg.payload, msg.errors?.map(() => [1.0, 2.0]), "Catch gets the failed rows");
      assert.deepEqual(msg.kafka?.offsets, msg.errors?.map((row) => row.offset), "and their records");
    }
    await waitFor(async () => (await committedOffset(group, input)) === "20", 15_000, "offset 20 committed");
  });

  it("a row kafka-out cannot write fails alone: the rest of its batch is written, Catch gets that row, and it is dead-lettered", async () => {
    const [input, output, deadLetters, group] = [uniqueName("batch-refused-in"), uniqueName("batch-refused-out"), uniqueName("batch-refused-dlq"), uniqueName("batch-refused-group")];
    await Promise.all([createTopic(input, 1), createTopic(output, 1, undefined, { "max.message.bytes": "1024" }), createTopic(deadLetters, 1)]);
    const values = Array.from({ length: 11 }, (_, index) => (index === 5 ? "y".repeat(4096) : `small-${index}`));
    await produce(input, values.map((value, index) => ({ key: `r${index}`, value })));
    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut, catchNode],
      [
        { id: "bt-flow", type: "tab" },
        { id: "bt-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "batch-path-test" },
        { id: "bt-reader", type: "kafka-in", z: "bt-flow", broker: "bt-broker", topic: input, groupId: group, fromBeginning: true, payloadFormat: "text", outputMode: "batch", deadLetterTopic: deadLetters, wires: [["bt-writer"]] },
        { id: "bt-writer", type: "kafka-out", z: "bt-flow", broker: "bt-broker", topic: output, acks: "all", wires: [] },
        { id: "bt-catch", type: "catch", z: "bt-flow", scope: null, uncaught: false, wires: [["bt-errors"]] },
        { id: "bt-errors", type: "helper", z: "bt-flow" },
      ],
    );
    const caught: Caught[] = [];
    helper.getNode("bt-errors").on("input", (msg: Caught) => caught.push(msg));

    const written = await consume(output, 10, 60_000);
    assert.deepEqual(written.map((record) => String(record.key)).sort(), values.map((_, index) => `r${index}`).filter((key) => key !== "r5").sort());
    const [letter] = await consume(deadLetters, 1, 60_000);
    assert.equal(String(letter.key), "r5");
    assert.equal(String(letter.value), values[5], "byte for byte");
    assert.match(String(letter.headers?.["dlq.error"]), /Produce refused by the broker: .*MESSAGE_TOO_LARGE/);
    await waitFor(() => caught.length > 0, 30_000, "kafka-out's report");
    assert.match(caught[0].error.message, /1 of \d+ records of the batch were not written: row \d+: Produce refused by the broker/);
    assert.deepEqual(caught[0].kafka?.offsets, ["5"]);
    assert.deepEqual(caught[0].payload, [values[5]]);
    await waitFor(async () => (await committedOffset(group, input)) === "11", 15_000, "offset 11 committed");
  });

  it("waits up to Wait ms for the records of a quiet topic to fill a batch", async () => {
    const input = uniqueName("batch-quiet-in");
    const output = uniqueName("batch-quiet-out");
    await Promise.all([createTopic(input, 1), createTopic(output, 1)]);
    await helper.load([kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode], batchFlow(input, output, uniqueName("batch-quiet-group"), { batchRecords: 500, batchWaitMs: 500 }));
    const seen: BatchMessage[] = [];
    helper.getNode("bt-seen").on("input", (msg: BatchMessage) => seen.push(msg));
    await waitForStatus("bt-reader", "subscribed", 60_000, "kafka-in in its group");
    // a record every 25 ms for 1.5 s, each sent on its own
    const producer = new Kafka({ clientId: "quiet-feed", brokers: [testBrokers()], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const count = 60;
    try {
      for (let index = 0; index < count; index++) {
        await producer.send({ topic: input, messages: [{ key: `k${index}`, value: petalRow(index) }] });
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await producer.disconnect();
    }
    await consume(output, count, 60_000);
    assert.equal(seen.reduce((sum, msg) => sum + msg.payload.length, 0), count);
    assert.ok(seen.length <= count / 5, `${count} records came in ${seen.length} batches (${seen.map((msg) => msg.payload.length).join(", ")}): a fetch waited for more`);
  });

  it("counts records, not msgs, against max unsettled, and delivers all", async () => {
    const input = uniqueName("batch-slow-in");
    const output = uniqueName("batch-slow-out");
    await Promise.all([createTopic(input, 2), createTopic(output, 1)]);
    const count = 1500;
    await produce(input, Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: petalRow(index) })));
    const slow = writeHandler("slow_rows", "import time\n\ndef load(path, config):\n    return None\n\ndef predict(model, batch):\n    time.sleep(0.001 * len(batch))\n    return [len(row) for row in batch]\n");
    const maxUnsettled = 200;
    await helper.load([kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode], batchFlow(input, output, uniqueName("batch-slow-group"), { batchRecords: 80, maxUnsettled, handlerPath: slow, modelBatch: 40 }));
    let emitted = 0;
    let acknowledged = 0;
    let maxInFlight = 0;
    const written = new Set<string>();
    helper.getNode("bt-seen").on("input", (msg: BatchMessage) => {
      emitted += msg.payload.length;
      maxInFlight = Math.max(maxInFlight, emitted - acknowledged);
    });
    helper.getNode("bt-acknowledged").on("input", (msg: BatchMessage & { delivery: unknown[] }) => {
      acknowledged += msg.delivery.length;
      for (const key of msg.kafka.keys) written.add(String(key));
    });
    await waitFor(() => written.size === count, 120_000, `all ${count} records written (${written.size} so far)`);
    assert.ok(maxInFlight <= maxUnsettled, `at most ${maxUnsettled} records in flight, saw ${maxInFlight}`);
    assert.ok(maxInFlight > maxUnsettled / 2, `the bound was reached (${maxInFlight} in flight at most)`);
  });
});
