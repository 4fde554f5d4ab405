import * as assert from "node:assert/strict";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, statusOf, statusesOf } from "../../support/node-red-helper";
import { committedOffset, consume, createTopic, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { HOLDOUT, IRIS_MODEL, PETAL_RULES, PYTHON, waitFor } from "../../support/python";

interface Caught {
  payload: unknown;
  key: string;
  offset: string;
  error: { message: string };
}

function pipeline(input: string, output: string, groupId: string, model: Record<string, unknown>) {
  return [
    { id: "f1", type: "tab" },
    { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "pipeline-test" },
    { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId, fromBeginning: true, payloadFormat: "json", deliveryMode: "at-least-once", maxUnsettled: 100, wires: [["model"]] },
    { id: "model", type: "python-model", z: "f1", python: PYTHON, batchSize: 64, maxWaitMs: 5, timeoutMs: 30000, wires: [["out"]], ...model },
    { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", wires: [] },
    { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper", z: "f1" },
  ];
}

/** kafka-in -> python-model -> kafka-out on a real broker with a real Python model. */
describe(`Kafka to Python to Kafka (real broker, real Python) [${TEST_ENGINE} engine]`, function () {
  this.timeout(180_000);
  afterEach(async () => {
    await helper.unload();
  });

  it("scores every record of the input topic onto the output topic with the Keras model, keys kept", async () => {
    const input = uniqueName("iris-in");
    const output = uniqueName("iris-scored");
    const group = uniqueName("keras-group");
    await createTopic(input, 3);
    await createTopic(output, 1);
    const copies = 10;
    const rows = Array.from({ length: copies }, () => HOLDOUT).flat();
    await produce(input, rows.map((row, index) => ({ key: String(index), value: JSON.stringify(row.features), headers: { trace: `t${index}` } })));
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode], pipeline(input, output, group, { kind: "keras", modelPath: IRIS_MODEL, backend: "jax" }));

    const records = await consume(output, rows.length, 120_000);
    const byKey = new Map(records.map((record) => [String(record.key), record]));
    assert.equal(byKey.size, rows.length, "one output record per input record");
    let correct = 0;
    for (const [key, record] of byKey) {
      const row = rows[Number(key)];
      const prediction = JSON.parse(String(record.value)) as { label: string; score: number };
      if (prediction.label === row.label) correct++;
      assert.equal(String(record.headers?.trace), `t${key}`);
    }
    assert.ok(correct / rows.length >= 0.9, `${correct} of ${rows.length} correct`);
    const known = rows.findIndex((row) => row.features.join() === "4.4,3,1.3,0.2");
    assert.ok(known >= 0, "the held-out set holds the known setosa sample");
    assert.equal((JSON.parse(String(byKey.get(String(known))?.value)) as { label: string }).label, "setosa");
  });

  it("sends a record that is not JSON to Catch with its original text, commits past it, and scores the next ones", async () => {
    const input = uniqueName("mixed-in");
    const output = uniqueName("mixed-out");
    const group = uniqueName("plain-group");
    await createTopic(input, 1);
    await createTopic(output, 1);
    await produce(input, [
      { key: "a", value: "[5.0, 3.4, 1.5, 0.2]" },
      { key: "broken", value: "{this is not json" },
      { key: "short", value: "[1.0, 2.0]" },
      { key: "b", value: '{"features": [6.9, 3.1, 5.4, 2.1]}' },
    ]);
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode], pipeline(input, output, group, { kind: "python", handlerPath: PETAL_RULES }));
    const caught: Caught[] = [];
    helper.getNode("errors").on("input", (msg: Caught) => caught.push(msg));

    const records = await consume(output, 2, 60_000);
    assert.deepEqual(
      records.map((record) => [String(record.key), JSON.parse(String(record.value)).label]),
      [
        ["a", "setosa"],
        ["b", "virginica"],
      ],
    );
    await waitFor(() => caught.length === 2, 10_000, "two errors at the Catch node");
    const broken = caught.find((msg) => msg.key === "broken");
    assert.equal(broken?.payload, "{this is not json");
    assert.match(broken?.error.message ?? "", /not valid JSON/);
    const short = caught.find((msg) => msg.key === "short");
    assert.match(short?.error.message ?? "", /expected 4 features \(sepal length, sepal width, petal length, petal width\), got 2/);
    assert.deepEqual(short?.payload, [1.0, 2.0]);
    // every record is dealt with, so the group's committed offset reaches the end of the partition
    await waitFor(async () => (await committedOffset(group, input)) === "4", 15_000, "offset 4 committed");
  });

  it("writes failed records to the dead-letter topic byte for byte, with headers naming the error and the source", async () => {
    const input = uniqueName("dlq-in");
    const output = uniqueName("dlq-out");
    const deadLetters = uniqueName("dlq");
    const group = uniqueName("dlq-group");
    await Promise.all([createTopic(input, 1), createTopic(output, 1), createTopic(deadLetters, 1)]);
    await produce(input, [
      { key: "good", value: "[5.0, 3.4, 1.5, 0.2]" },
      { key: "broken", value: "{oops", headers: { trace: "t-1" } },
      { key: "short", value: "[1.0, 2.0]" },
    ]);
    const flow = pipeline(input, output, group, { kind: "python", handlerPath: PETAL_RULES }).map((node) =>
      node.id === "in" ? { ...node, deadLetterTopic: deadLetters } : node,
    );
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode], flow);

    const letters = await consume(deadLetters, 2, 60_000);
    const byKey = new Map(letters.map((letter) => [String(letter.key), letter]));
    const broken = byKey.get("broken");
    assert.equal(String(broken?.value), "{oops");
    assert.equal(String(broken?.headers?.trace), "t-1");
    assert.match(String(broken?.headers?.["dlq.error"]), /not valid JSON/);
    assert.equal(String(broken?.headers?.["dlq.node"]), "in");
    assert.equal(String(broken?.headers?.["dlq.source.topic"]), input);
    assert.equal(String(broken?.headers?.["dlq.source.partition"]), "0");
    assert.equal(String(broken?.headers?.["dlq.source.offset"]), "1");
    const short = byKey.get("short");
    assert.equal(String(short?.value), "[1.0, 2.0]");
    assert.match(String(short?.headers?.["dlq.error"]), /ValueError: expected 4 features/);
    assert.equal(String(short?.headers?.["dlq.node"]), "model");
    assert.equal(String((await consume(output, 1))[0].key), "good");
    await waitFor(async () => (await committedOffset(group, input)) === "3", 15_000, "offset 3 committed");
    await waitFor(() => statusesOf("in").some((status) => /^subscribed · \d+ failed\/s, dead-lettered$/.test(status.text ?? "") && status.fill === "yellow"), 5000, "the failures in kafka-in's status");
    await waitFor(() => statusOf("in") === "subscribed", 5000, "subscribed again once nothing fails");
  });

  it("sends a record nested 10,000 levels deep to Catch as its text, and to the dead-letter topic, and scores the next one", async () => {
    const input = uniqueName("deep-in");
    const output = uniqueName("deep-out");
    const deadLetters = uniqueName("deep-dlq");
    const group = uniqueName("deep-group");
    await Promise.all([createTopic(input, 1), createTopic(output, 1), createTopic(deadLetters, 1)]);
    const deep = "[".repeat(10_000) + "1" + "]".repeat(10_000);
    await produce(input, [
      { key: "deep", value: deep },
      { key: "next", value: "[5.0, 3.4, 1.5, 0.2]" },
    ]);
    const flow = pipeline(input, output, group, { kind: "python", handlerPath: PETAL_RULES }).map((node) =>
      node.id === "in" ? { ...node, deadLetterTopic: deadLetters } : node,
    );
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode], flow);
    const caught: Caught[] = [];
    helper.getNode("errors").on("input", (msg: Caught) => caught.push(msg));

    assert.equal(String((await consume(output, 1, 60_000))[0].key), "next");
    const [letter] = await consume(deadLetters, 1, 60_000);
    assert.equal(String(letter.value), deep, "dead-lettered byte for byte");
    await waitFor(() => caught.length === 1, 10_000, "the error in Catch");
    assert.match(caught[0].error.message, /nested deeper than 1000 levels/);
    assert.equal(caught[0].payload, deep);
  });

  it("does not commit a record whose result was never written", async () => {
    const input = uniqueName("uncommitted-in");
    const group = uniqueName("uncommitted-group");
    await createTopic(input, 1);
    await produce(input, [{ value: "[5.0, 3.4, 1.5, 0.2]" }]);
    const flow = pipeline(input, "unused", group, { kind: "python", handlerPath: PETAL_RULES }).map((node) =>
      node.id === "model" ? { ...node, wires: [["sink"]] } : node,
    );
    flow.push({ id: "sink", type: "helper", z: "f1" } as (typeof flow)[number]);
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode], flow);
    await new Promise<void>((resolve) => helper.getNode("sink").on("input", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several commit intervals
    assert.equal(await committedOffset(group, input), "-1");
  });
});
