import * as assert from "node:assert/strict";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, statusFill, statusOf } from "../../support/node-red-helper";
import { committedOffsets, consume, createTopic, findRecord, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { PETAL_RULES, PYTHON, waitFor } from "../../support/python";

interface Caught {
  payload: unknown;
  offset: string;
  partition: number;
  truncated?: unknown;
  error: { message: string; source: { id: string } };
}

const GOOD = "[5.0, 3.4, 1.5, 0.2]";
/** 4 KB, over the 1 KB the small topics take; three features, so the model fails it. */
const BIG_AND_FAILING = JSON.stringify({ features: [1.0, 2.0, 3.0], pad: "x".repeat(4096) });
const SMALL_TOPIC = { "max.message.bytes": "1024" };

function scoringFlow(input: string, output: string, group: string, inSettings: Record<string, unknown>) {
  return [
    { id: "f1", type: "tab" },
    { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "unwritable-test" },
    { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: group, fromBeginning: true, payloadFormat: "json", wires: [["model"]], ...inSettings },
    { id: "model", type: "python-model", z: "f1", python: PYTHON, kind: "python", handlerPath: PETAL_RULES, wires: [["out"]] },
    { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", wires: [] },
    { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper", z: "f1" },
  ];
}

function collectCaught(): Caught[] {
  const caught: Caught[] = [];
  helper.getNode("errors").on("input", (msg: Caught) => caught.push(msg));
  return caught;
}

/** Records the broker refuses for good, as dead letters and as results (real broker, real Python). */
describe(`records that can be written nowhere (real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(180_000);
  afterEach(async () => {
    await helper.unload();
  });

  it("stop: a dead letter the broker refuses stops its partition there, visibly and in Catch; the other partition goes on", async () => {
    const [input, output, deadLetters, group] = [uniqueName("stop-in"), uniqueName("stop-out"), uniqueName("stop-dlq"), uniqueName("stop-group")];
    await Promise.all([createTopic(input, 2), createTopic(output, 1), createTopic(deadLetters, 1, undefined, SMALL_TOPIC)]);
    await produce(input, [
      { partition: 0, key: "p0-0", value: GOOD },
      { partition: 0, key: "p0-1", value: BIG_AND_FAILING },
      { partition: 0, key: "p0-2", value: GOOD },
      { partition: 1, key: "p1-0", value: GOOD },
      { partition: 1, key: "p1-1", value: GOOD },
    ]);
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode], scoringFlow(input, output, group, { deadLetterTopic: deadLetters, refusalPolicy: "stop" }));
    const caught = collectCaught();

    await waitFor(() => caught.some((msg) => msg.error.source.id === "in"), 60_000, "kafka-in's report of the refused dead letter");
    const report = caught.find((msg) => msg.error.source.id === "in") as Caught;
    assert.match(report.error.message, new RegExp(`dead-letter topic ${deadLetters} refused the record ${input}\\[0\\] offset 1: .*max.message.bytes.*MESSAGE_TOO_LARGE`));
    assert.match(report.error.message, /partition is stopped there/);
    assert.equal(report.offset, "1", "Catch gets the record itself");
    assert.equal((report.payload as { pad: string }).pad.length, 4096);
    assert.match(statusOf("in"), new RegExp(`^stopped at ${input}\\[0\\] offset 1: `));
    assert.equal(statusFill("in"), "red");

    // the other partition keeps reading and committing
    await produce(input, [{ partition: 1, key: "p1-2", value: GOOD }]);
    await findRecord(output, (key) => key === "p1-2", 60_000);
    const keys = new Set((await consume(output, 4, 60_000)).map((record) => String(record.key)));
    for (const key of ["p0-0", "p1-0", "p1-1"]) assert.ok(keys.has(key), `${key} scored`);
    await waitFor(async () => (await committedOffsets(group, input)).get(1) === "3", 30_000, "partition 1 committed to its end");
    assert.equal((await committedOffsets(group, input)).get(0), "1", "partition 0 is committed up to the refused record, not past it");
    assert.match(statusOf("in"), /^stopped at/, "still shown");
  });

  it("skip: a dead letter the broker refuses is reported with its record, committed past, and its partition flows on", async () => {
    const [input, output, deadLetters, group] = [uniqueName("skip-in"), uniqueName("skip-out"), uniqueName("skip-dlq"), uniqueName("skip-group")];
    await Promise.all([createTopic(input, 1), createTopic(output, 1), createTopic(deadLetters, 1, undefined, SMALL_TOPIC)]);
    await produce(input, [
      { key: "r0", value: GOOD },
      { key: "r1", value: BIG_AND_FAILING },
      { key: "r2", value: GOOD },
    ]);
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode], scoringFlow(input, output, group, { deadLetterTopic: deadLetters, refusalPolicy: "skip" }));
    const caught = collectCaught();

    await waitFor(() => caught.some((msg) => msg.error.source.id === "in"), 60_000, "kafka-in's report of the refused dead letter");
    const report = caught.find((msg) => msg.error.source.id === "in") as Caught;
    assert.match(report.error.message, new RegExp(`refused the record ${input}\\[0\\] offset 1: .*MESSAGE_TOO_LARGE.* It is skipped`));
    assert.equal(report.offset, "1");
    await produce(input, [{ key: "r3", value: GOOD }]);
    const keys = (await consume(output, 3, 60_000)).map((record) => String(record.key)).sort();
    assert.deepEqual(keys, ["r0", "r2", "r3"]);
    await waitFor(async () => (await committedOffsets(group, input)).get(0) === "4", 30_000, "committed past the skipped record to the end");
    assert.doesNotMatch(statusOf("in"), /stopped/);
  });

  it("a result kafka-out cannot write fails alone: the rest of its batch is written, Catch hears why, and without dead letters the partition stops there", async () => {
    const [input, output, group] = [uniqueName("refused-in"), uniqueName("refused-out"), uniqueName("refused-group")];
    await Promise.all([createTopic(input, 1), createTopic(output, 1, undefined, SMALL_TOPIC)]);
    const values = Array.from({ length: 11 }, (_, index) => (index === 5 ? "y".repeat(4096) : `small-${index}`));
    await produce(input, values.map((value, index) => ({ key: `r${index}`, value })));
    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut, catchNode],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "unwritable-test" },
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: group, fromBeginning: true, payloadFormat: "text", wires: [["out"]] },
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", wires: [] },
        { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
        { id: "errors", type: "helper", z: "f1" },
      ],
    );
    const caught = collectCaught();

    const written = await consume(output, 10, 60_000);
    assert.deepEqual(written.map((record) => String(record.key)).sort(), values.map((_, index) => `r${index}`).filter((key) => key !== "r5").sort());
    await waitFor(() => caught.some((msg) => msg.error.source.id === "out"), 30_000, "kafka-out's report");
    const refused = caught.find((msg) => msg.error.source.id === "out") as Caught;
    assert.match(refused.error.message, new RegExp(`Produce refused by the broker: ${output}: the record is larger than the topic accepts .*MESSAGE_TOO_LARGE`));
    assert.equal(refused.offset, "5");
    await waitFor(() => /^stopped at /.test(statusOf("in")), 30_000, "kafka-in to show the stopped partition");
    assert.match(statusOf("in"), new RegExp(`^stopped at ${input}\\[0\\] offset 5: Produce refused`));
    await waitFor(() => /failed/.test(statusOf("out")), 10_000, "kafka-out to show the failure");
    await new Promise((resolve) => setTimeout(resolve, 1000)); // commits run every 200 ms
    assert.equal((await committedOffsets(group, input)).get(0), "5");
  });

  it("a result kafka-out cannot write goes to the dead-letter topic when there is one, and the partition goes on", async () => {
    const [input, output, deadLetters, group] = [uniqueName("refused-dl-in"), uniqueName("refused-dl-out"), uniqueName("refused-dl"), uniqueName("refused-dl-group")];
    await Promise.all([createTopic(input, 1), createTopic(output, 1, undefined, SMALL_TOPIC), createTopic(deadLetters, 1)]);
    await produce(input, [
      { key: "small", value: "s" },
      { key: "big", value: "z".repeat(4096) },
      { key: "after", value: "a" },
    ]);
    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut, catchNode],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "unwritable-test" },
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: group, fromBeginning: true, payloadFormat: "text", deadLetterTopic: deadLetters, wires: [["out"]] },
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", wires: [] },
      ],
    );
    const [letter] = await consume(deadLetters, 1, 60_000);
    assert.equal(String(letter.key), "big");
    assert.equal(String(letter.value).length, 4096);
    assert.match(String(letter.headers?.["dlq.error"]), /Produce refused by the broker/);
    await waitFor(async () => (await committedOffsets(group, input)).get(0) === "3", 30_000, "committed to the end");
  });
});
