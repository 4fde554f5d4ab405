import * as assert from "node:assert/strict";
import * as sinon from "sinon";
import { KafkaConnection } from "../../src/kafka/connection";
import type { Delivery, OutgoingRecord, SendOptions } from "../../src/kafka/engine";
import { KafkajsEngine } from "../../src/kafka/engines/kafkajs";
import { BatchingProducer } from "../../src/kafka/engines/kafkajs/batching-producer";
import { ProduceRefusedError, ProducerStoppedError } from "../../src/kafka/produce-errors";
import { registerSettler, type SettlementHandle } from "../../src/kafka/settlement";
import { registerTransactionSender } from "../../src/kafka/transactions/transaction-senders";
import { catchNode, helper, kafkaBroker, kafkaOut, statusOf } from "../support/node-red-helper";

const flow = (topic: string) => [
  { id: "f1", type: "tab" },
  { id: "broker", type: "kafka-broker", brokers: "127.0.0.1:1", clientId: "test", engine: "kafkajs" },
  { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic, acks: "all", wires: [] },
  { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
  { id: "errors", type: "helper", z: "f1" },
];

/** kafka-out against a stubbed producer: what it writes and when it settles. */
describe("kafka-out node (producer stubbed)", () => {
  let send: sinon.SinonStub<[string, OutgoingRecord, SendOptions?], Promise<Delivery | undefined>>;
  beforeEach(() => {
    sinon.stub(KafkajsEngine.prototype, "connectProducer").returns(new Promise(() => undefined));
    sinon.stub(KafkaConnection.prototype, "releaseProducer").resolves();
    send = sinon.stub(BatchingProducer.prototype, "send").resolves();
  });
  afterEach(async () => {
    await helper.unload();
    sinon.restore();
  });

  it("writes payload, key and headers to the configured topic, then settles the source record", async () => {
    const settled: [SettlementHandle, string][] = [];
    const unregister = registerSettler("source-1", (handle, outcome) => settled.push([handle, outcome]));
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
    const handle = { source: "source-1", topic: "in", partition: 0, offset: "7" };
    helper.getNode("out").receive({ payload: { label: "setosa" }, key: "k", headers: { h: "v" }, topic: "in", kafka: handle });
    await new Promise((resolve) => setTimeout(resolve, 20));
    unregister();
    assert.equal(send.callCount, 1);
    assert.equal(send.firstCall.args[0], "scored");
    assert.deepEqual(send.firstCall.args[1], { value: '{"label":"setosa"}', key: "k", headers: { h: "v" } });
    assert.deepEqual(settled, [[handle, "processed"]]);
  });

  it("uses msg.topic when no topic is configured", async () => {
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow(""));
    helper.getNode("out").receive({ payload: "x", topic: "from-msg" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(send.firstCall.args[0], "from-msg");
  });

  it("reads the topic from a msg property or an environment variable when the topic is typed so", async () => {
    process.env.KAFKA_OUT_TEST_TOPIC = "from-env";
    const typed = (topic: string, topicType: string) => [
      { id: "f1", type: "tab" },
      { id: "broker", type: "kafka-broker", brokers: "127.0.0.1:1", clientId: "test", engine: "kafkajs" },
      { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic, topicType, acks: "all", wires: [] },
    ];
    try {
      await helper.load([kafkaBroker, kafkaOut], typed("route.target", "msg"));
      helper.getNode("out").receive({ payload: "x", route: { target: "from-property" } });
      await helper.unload();
      await helper.load([kafkaBroker, kafkaOut], typed("KAFKA_OUT_TEST_TOPIC", "env"));
      helper.getNode("out").receive({ payload: "y" });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(send.getCalls().map((call) => call.args[0]), ["from-property", "from-env"]);
    } finally {
      delete process.env.KAFKA_OUT_TEST_TOPIC;
    }
  });

  it("refuses to write a record back to the topic it was read from, and settles it as failed", async () => {
    const outcomes: string[] = [];
    const unregister = registerSettler("s", (_handle, outcome) => outcomes.push(outcome));
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow(""));
    const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("out").receive({ payload: 1, topic: "in", kafka: { source: "s", topic: "in", partition: 0, offset: "3" } });
    assert.match((await caught).error.message, /Refusing to write the record back to its source topic in/);
    unregister();
    assert.equal(send.callCount, 0);
    assert.deepEqual(outcomes, ["failed"], "a msg that can never be written does not hold back its partition's commits");
  });

  it("sends a msg with no topic anywhere to Catch", async () => {
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow(""));
    const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("out").receive({ payload: "x" });
    assert.match((await caught).error.message, /No topic configured and msg.topic is not set/);
    assert.equal(send.callCount, 0);
  });

  it("reports a record whose write failed as undelivered (not settled) and the failure to Catch", async () => {
    send.rejects(new Error("broker gone"));
    const outcomes: string[] = [];
    const unregister = registerSettler("source-2", (_handle, outcome, failure) => outcomes.push(`${outcome}: ${failure?.error}`));
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
    const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("out").receive({ payload: 1, kafka: { source: "source-2", topic: "in", partition: 0, offset: "1" } });
    assert.match((await caught).error.message, /broker gone/);
    unregister();
    assert.deepEqual(outcomes, ["undelivered: Produce failed: broker gone"]);
  });

  it("reports a record the broker refused for good as refused, undelivered, to Catch", async () => {
    send.rejects(new ProduceRefusedError("scored", "MESSAGE_TOO_LARGE", "the record is larger than the topic accepts (max.message.bytes)"));
    const outcomes: string[] = [];
    const unregister = registerSettler("source-3", (_handle, outcome, failure) => outcomes.push(`${outcome}: ${failure?.error}`));
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
    const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode("errors").on("input", resolve));
    helper.getNode("out").receive({ payload: 1, kafka: { source: "source-3", topic: "in", partition: 0, offset: "1" } });
    assert.match((await caught).error.message, /Produce refused by the broker: scored: the record is larger than the topic accepts .*MESSAGE_TOO_LARGE/);
    unregister();
    assert.equal(outcomes.length, 1);
    assert.match(outcomes[0], /^undelivered: Produce refused by the broker/);
  });

  it("writes a batch msg as one record per row with the row's key and headers, and settles each record once all are written; a refused row is settled alone", async () => {
    send.callsFake(async (_topic, record) => {
      if (record.value === "too large") throw new ProduceRefusedError("scored", "MESSAGE_TOO_LARGE", "the record is larger than the topic accepts");
      return undefined;
    });
    const outcomes: string[] = [];
    const unregister = registerSettler("batch-1", (handle, outcome) => outcomes.push(`${handle.offset} ${outcome}`));
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
    const caught = new Promise<{ error: { message: string }; payload: unknown; errors: unknown[]; kafka: { offsets: string[] } }>((resolve) => helper.getNode("errors").on("input", resolve));
    const kafka = { source: "batch-1", topic: "in", partition: 0, offset: "10", lastOffset: "12", offsets: ["10", "11", "12"], keys: ["a", null, "c"], headers: [{ h: "1" }, {}, { h: "3" }], timestamps: [1, 2, 3] };
    helper.getNode("out").receive({ payload: [{ label: "x" }, "too large", 7], topic: "in", partition: 0, kafka });
    const report = await caught;
    unregister();
    assert.deepEqual(
      send.getCalls().map((call) => call.args[1]),
      [
        { value: '{"label":"x"}', key: "a", headers: { h: "1" } },
        { value: "too large", headers: {} },
        { value: "7", key: "c", headers: { h: "3" } },
      ],
    );
    assert.deepEqual(outcomes.sort(), ["10 processed", "11 undelivered", "12 processed"]);
    assert.match(report.error.message, /1 of 3 records of the batch were not written: row 1: Produce refused by the broker/);
    assert.deepEqual(report.payload, ["too large"]);
    assert.deepEqual(report.kafka.offsets, ["11"]);
  });

  it("writes an array payload as one JSON record unless Arrays is ticked", async () => {
    await helper.load([kafkaBroker, kafkaOut], flow("scored"));
    helper.getNode("out").receive({ payload: [1, 2] });
    await helper.unload();
    await helper.load([kafkaBroker, kafkaOut], flow("scored").map((node) => (node.id === "out" ? { ...node, splitArrays: true } : node)));
    helper.getNode("out").receive({ payload: [1, 2] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(send.getCalls().map((call) => call.args[1].value), ["[1,2]", "1", "2"]);
  });

  it("leaves a record unsettled and reports nothing when the node closes before its write", async () => {
    send.rejects(new ProducerStoppedError());
    const outcomes: string[] = [];
    const unregister = registerSettler("source-4", (_handle, outcome) => outcomes.push(outcome));
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
    let caught = 0;
    helper.getNode("errors").on("input", () => caught++);
    helper.getNode("out").receive({ payload: 1, kafka: { source: "source-4", topic: "in", partition: 0, offset: "1" } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    unregister();
    assert.deepEqual(outcomes, []);
    assert.equal(caught, 0);
  });

  it("shows records written and failed per second, and stays red after a failure until writes succeed again", async () => {
    const clock = sinon.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      send.callsFake(async (_topic, message) => {
        if (message.value === "big") throw new ProduceRefusedError("scored", "MESSAGE_TOO_LARGE", "too large");
        return undefined;
      });
      await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
      const out = helper.getNode("out");
      const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
      ["a", "b", "c", "big"].forEach((payload) => out.receive({ payload }));
      await settle();
      clock.tick(1000);
      assert.equal(statusOf("out"), "3 rec/s, 1 failed/s");
      clock.tick(1000);
      assert.match(statusOf("out"), /^failed: scored: too large/, "idle after a failure: the failure stays shown");
      out.receive({ payload: "d" });
      await settle();
      clock.tick(1000);
      assert.equal(statusOf("out"), "1 rec/s");
    } finally {
      clock.restore();
    }
  });

  it("reports a payload nested too deeply for Node-RED to copy to Catch, without stopping Node-RED", async () => {
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
    const caught = new Promise<{ payload: unknown; topic: string; error: { message: string } }>((resolve) => helper.getNode("errors").on("input", resolve));
    const deep = JSON.parse("[".repeat(10_000) + "1" + "]".repeat(10_000)) as unknown;
    helper.getNode("out").receive({ payload: deep, topic: "t" });
    const report = await caught;
    assert.match(report.error.message, /msg.payload is nested too deeply to be written as JSON .*Catch gets its plain properties only/);
    assert.equal(report.payload, "(not copied: nested too deeply)");
    assert.equal(report.topic, "t");
    assert.equal(send.callCount, 0);
  });

  it("writes the result of an exactly-once record in its consumer's transaction, and drops that of an aborted one (it is read again)", async () => {
    await helper.load([kafkaBroker, kafkaOut, catchNode], flow("scored"));
    const node = helper.getNode("out") as unknown as { receive(msg: object): void };
    const broker = helper.getNode("broker") as unknown as { connection: KafkaConnection };
    const inTransaction: [string, OutgoingRecord][] = [];
    const settled: string[] = [];
    const unregisterSettler = registerSettler("eo-1", (_handle, outcome) => settled.push(outcome));
    const unregisterSender = registerTransactionSender("eo-1", {
      connection: broker.connection,
      send: async (topic, record) => {
        inTransaction.push([topic, record]);
        return { topic, partition: 0, offset: "0" };
      },
    });
    const caught: unknown[] = [];
    helper.getNode("errors").on("input", (msg: unknown) => caught.push(msg));
    node.receive({ payload: { sum: 3 }, kafka: { source: "eo-1", topic: "in", partition: 0, offset: "1", transactional: true } });
    node.receive({ payload: { sum: 4 }, kafka: { source: "eo-aborted", topic: "in", partition: 0, offset: "2", transactional: true } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    unregisterSender();
    unregisterSettler();
    assert.deepEqual(inTransaction, [["scored", { value: '{"sum":3}' }]]);
    assert.equal(send.callCount, 0, "nothing written outside the transaction");
    assert.deepEqual(settled, ["processed"]);
    assert.deepEqual(caught, []);
  });
});

