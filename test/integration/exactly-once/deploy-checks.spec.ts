import * as assert from "node:assert/strict";
import { createTopic, produce, testBrokers, uniqueName } from "../../support/kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, loggedBy, statusFill, waitForStatus } from "../../support/node-red-helper";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS file inside node-red
const httpRequestNode = require("@node-red/nodes/core/network/21-httprequest.js") as typeof catchNode;

/** What a deploy of an exactly-once kafka-in says before any record flows. */
describe("exactly-once: what a deploy says, and a flow that does not settle its records (real runtime, real broker)", function () {
  this.timeout(60_000);
  afterEach(async () => {
    await helper.unload();
  });

  let input: string;
  before(async () => {
    input = uniqueName("eo-checks");
    await createTopic(input, 1);
  });

  function flows(engine: string, extra: object[] = [], wires: string[] = ["out"]): object[] {
    return [
      { id: "f1", type: "tab" },
      { id: "broker", type: "kafka-broker", engine, brokers: testBrokers(), clientId: "eo-checks" },
      { id: "other-broker", type: "kafka-broker", engine, brokers: testBrokers(), clientId: "eo-checks-other" },
      { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: uniqueName("eo-checks"), fromBeginning: true, deliveryMode: "exactly-once", wires: [wires] },
      { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: uniqueName("eo-checks-out"), wires: [] },
      ...extra,
    ];
  }

  it("on the kafkajs engine: refused at deploy, naming the engine to use", async () => {
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, catchNode], flows("kafkajs"));
    await waitForStatus("in", /librdkafka engine/, 10_000, "the refusal in the status");
    assert.equal(statusFill("in"), "red");
    assert.ok(loggedBy("in").some((entry) => entry.level === "error" && /Exactly-once needs the librdkafka engine .* the kafkajs engine cannot send/.test(entry.msg)));
  });

  it("records that leave by an HTTP request or by a kafka out of another broker: a warning at deploy; a plain Kafka-to-Kafka flow: none", async () => {
    const leaks = [
      { id: "http", type: "http request", z: "f1", name: "webhook", method: "POST", url: "http://127.0.0.1:9/", wires: [] },
      { id: "elsewhere", type: "kafka-out", z: "f1", broker: "other-broker", topic: uniqueName("eo-checks-elsewhere"), wires: [] },
    ];
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, catchNode, httpRequestNode], flows("librdkafka", leaks, ["out", "http", "elsewhere"]));
    const warnings = loggedBy("in").filter((entry) => entry.level === "warn").map((entry) => entry.msg);
    assert.ok(warnings.some((text) => /Kafka to Kafka only: .*"webhook" \(http request\)/.test(text)), JSON.stringify(warnings));
    assert.ok(warnings.some((text) => /kafka-out elsewhere writes through another kafka-broker/.test(text)), JSON.stringify(warnings));
    await waitForStatus("in", /exactly-once/, 30_000, "the consumer running all the same");
    await helper.unload();

    await helper.load([kafkaBroker, kafkaIn, kafkaOut, catchNode], flows("librdkafka"));
    assert.deepEqual(loggedBy("in").filter((entry) => entry.level === "warn"), [], "no warning for kafka-in → kafka-out");
  });

  it("records that reach neither kafka-out nor kafka-commit hold the transaction: the status turns yellow, not green", async () => {
    await produce(input, [{ key: "1", value: "[1, 2, 3]" }]);
    const dropped = [{ id: "sink", type: "helper", z: "f1" }];
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, catchNode], flows("librdkafka", dropped, ["sink"]));
    const received: unknown[] = [];
    helper.getNode("sink").on("input", (msg: unknown) => received.push(msg));
    await waitForStatus("in", /^paused: \d+ in flight$/, 30_000, "the held transaction in the status");
    assert.equal(statusFill("in"), "yellow");
    assert.ok(received.length > 0, "the records were emitted");
  });
});

