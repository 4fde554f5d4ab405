import * as assert from "node:assert/strict";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, statusOf, waitForStatus } from "../../support/node-red-helper";
import { consume, createTopic, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { waitFor } from "../../support/python";

interface Delivered {
  key: Buffer | string | null;
  payload: unknown;
  topic: string;
  delivery?: { topic: string; partition: number; offset: string };
}

function broker() {
  return { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "kafka-nodes-test" };
}

/** kafka-in and kafka-out on the real broker. */
describe(`kafka-in and kafka-out (real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(120_000);
  afterEach(async () => {
    await helper.unload();
  });

  it("carries binary values, keys, headers and tombstones byte for byte, gzip-compressed, and reports where each was written", async () => {
    const input = uniqueName("bytes-in");
    const output = uniqueName("bytes-out");
    await createTopic(input, 1);
    await createTopic(output, 3);
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
    await produce(input, [
      { key: Buffer.from([0, 1, 2]), value: everyByte, headers: { blob: Buffer.from([255, 0]) } },
      { key: "deleted", value: null },
      { key: "text", value: "é plain" },
    ]);
    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut, catchNode],
      [
        { id: "f1", type: "tab" },
        broker(),
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: uniqueName("bytes"), fromBeginning: true, payloadFormat: "buffer", keyHeaderFormat: "buffer", wires: [["out"]] },
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", compression: "gzip", metadata: true, wires: [["delivered"]] },
        { id: "delivered", type: "helper", z: "f1" },
      ],
    );
    const delivered: Delivered[] = [];
    helper.getNode("delivered").on("input", (msg: Delivered) => delivered.push(msg));
    const records = await consume(output, 3, 60_000);
    await waitFor(() => delivered.length === 3, 10_000, "three delivery reports");

    const byKey = new Map(records.map((record) => [record.key?.toString("hex"), record]));
    const binary = byKey.get("000102");
    assert.ok(binary?.value?.equals(everyByte), "all 256 byte values survive");
    assert.deepEqual(binary?.headers?.blob, Buffer.from([255, 0]));
    assert.equal(byKey.get(Buffer.from("deleted").toString("hex"))?.value, null, "a tombstone stays a tombstone");
    assert.equal(byKey.get(Buffer.from("text").toString("hex"))?.value?.toString("utf8"), "é plain");

    for (const msg of delivered) {
      const written = records.find((record) => String(record.offset) === msg.delivery?.offset && record.key?.equals(Buffer.from(msg.key as Buffer)));
      assert.ok(written, `the record reported at offset ${msg.delivery?.offset} of partition ${msg.delivery?.partition} has the msg's key`);
      assert.equal(msg.delivery?.topic, output);
    }
  });

  it("gives a key that is not UTF-8 as a string and keeps its bytes in msg.kafka.keyBuffer", async () => {
    const input = uniqueName("binary-key-in");
    await createTopic(input, 1);
    const binaryKey = Buffer.from([0xc3, 0x28, 0xff]);
    await produce(input, [{ key: binaryKey, value: "1" }]);
    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "f1", type: "tab" },
        broker(),
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: uniqueName("binary-key"), fromBeginning: true, keyHeaderFormat: "string", wires: [["sink"]] },
        { id: "sink", type: "helper", z: "f1" },
      ],
    );
    const msg = await new Promise<{ key: string; kafka: { keyBuffer?: Buffer } }>((resolve) => helper.getNode("sink").on("input", resolve));
    assert.match(msg.key, /\uFFFD/, "the string has replacement characters where the bytes were not UTF-8");
    assert.ok(Buffer.from(msg.kafka.keyBuffer as Buffer).equals(binaryKey), "the bytes are kept");
  });

  it("subscribes by regular expression and by a list of topics", async () => {
    const prefix = uniqueName("re");
    const topics = [`${prefix}-a`, `${prefix}-b`];
    await Promise.all(topics.map((topic) => createTopic(topic, 1)));
    await Promise.all(topics.map((topic) => produce(topic, [{ value: JSON.stringify({ from: topic }) }])));
    for (const setting of [`/^${prefix}-.*$/`, topics.join(", ")]) {
      await helper.load(
        [kafkaBroker, kafkaIn, catchNode],
        [
          { id: "f1", type: "tab" },
          broker(),
          { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: setting, groupId: uniqueName("re-group"), fromBeginning: true, payloadFormat: "json", wires: [["got"]] },
          { id: "got", type: "helper", z: "f1" },
        ],
      );
      const received: Delivered[] = [];
      helper.getNode("got").on("input", (msg: Delivered) => received.push(msg));
      await waitFor(() => received.length === 2, 60_000, `records from both topics with "${setting}"`);
      assert.deepEqual(received.map((msg) => msg.topic).sort(), topics);
      assert.deepEqual(received.map((msg) => (msg.payload as { from: string }).from).sort(), topics);
      await helper.unload();
    }
  });

  it("reads a topic that did not exist when kafka-in subscribed, once it exists", async () => {
    const topic = uniqueName("late");
    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "f1", type: "tab" },
        broker(),
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic, groupId: uniqueName("late-group"), fromBeginning: true, payloadFormat: "text", wires: [["got"]] },
        { id: "got", type: "helper", z: "f1" },
      ],
    );
    const received: string[] = [];
    helper.getNode("got").on("input", (msg: { payload: string }) => received.push(msg.payload));
    if (TEST_ENGINE === "librdkafka") {
      // librdkafka's consumer does not have the topic created: it says it waits for it
      await waitForStatus("in", `connecting: ${topic}: no such topic (yet); read once it is created`, 30_000, "kafka-in waiting for its topic");
      await createTopic(topic, 1);
    } else {
      // kafkajs has the broker create it (auto.create.topics.enable)
      await waitForStatus("in", "subscribed", 30_000, "kafka-in subscribed");
    }
    await produce(topic, [{ value: "came later" }]);
    await waitFor(() => received.length === 1, 60_000, "the record written after kafka-in subscribed");
    assert.deepEqual(received, ["came later"]);
    await waitForStatus("in", /^subscribed/, 30_000, "kafka-in subscribed");
    assert.equal(statusOf("in"), "subscribed");
  });

  it("takes partition and timestamp from the msg when asked, with an idempotent producer, and reports a partition the topic lacks", async () => {
    const output = uniqueName("placed-out");
    await createTopic(output, 3);
    await helper.load(
      [kafkaBroker, kafkaOut, catchNode],
      [
        { id: "f1", type: "tab" },
        broker(),
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "leader", idempotent: true, partitionFromMsg: true, timestampFromMsg: true, wires: [] },
        { id: "errors", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
        { id: "caught", type: "helper", z: "f1" },
      ],
    );
    const caught: { key: string; error: { message: string } }[] = [];
    helper.getNode("caught").on("input", (msg: { key: string; error: { message: string } }) => caught.push(msg));
    const out = helper.getNode("out");
    out.receive({ payload: "on two", key: "placed", partition: 2, timestamp: 1_700_000_000_123 });
    out.receive({ payload: "dated", key: "dated", partition: "1", timestamp: new Date("2024-02-29T12:00:00Z") });
    out.receive({ payload: "nowhere", key: "nowhere", partition: 7 });
    out.receive({ payload: "bad time", key: "bad-time", timestamp: "not a date" });

    const records = await consume(output, 2, 60_000);
    const placed = records.find((record) => String(record.key) === "placed");
    assert.equal(placed?.partition, 2);
    assert.equal(placed?.timestamp, "1700000000123");
    const dated = records.find((record) => String(record.key) === "dated");
    assert.equal(dated?.partition, 1);
    assert.equal(dated?.timestamp, String(Date.parse("2024-02-29T12:00:00Z")));

    await waitFor(() => caught.length === 2, 10_000, "two errors in Catch");
    const byKey = new Map(caught.map((msg) => [msg.key, msg.error.message]));
    assert.match(byKey.get("nowhere") ?? "", new RegExp(`msg.partition is 7 but topic ${output} has only 3 partitions$`));
    assert.match(byKey.get("bad-time") ?? "", /msg.timestamp must be milliseconds since 1970, a Date or a date string, not "not a date"/);
  });

  it("reads a topic named by an environment variable and writes to the topic a record header names", async () => {
    const input = uniqueName("env-in");
    const output = uniqueName("routed-out");
    await createTopic(input, 1);
    await createTopic(output, 1);
    await produce(input, [{ key: "routed", value: JSON.stringify({ ok: true }), headers: { target: output } }]);
    process.env.KAFKA_NODES_TEST_INPUT = input;
    try {
      await helper.load(
        [kafkaBroker, kafkaIn, kafkaOut],
        [
          { id: "f1", type: "tab" },
          broker(),
          { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: "KAFKA_NODES_TEST_INPUT", topicType: "env", groupId: uniqueName("env"), fromBeginning: true, wires: [["out"]] },
          { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: "headers.target", topicType: "msg", wires: [] },
        ],
      );
      const [record] = await consume(output, 1, 60_000);
      assert.equal(String(record.key), "routed");
      assert.deepEqual(JSON.parse(String(record.value)), { ok: true });
    } finally {
      delete process.env.KAFKA_NODES_TEST_INPUT;
    }
  });
});
