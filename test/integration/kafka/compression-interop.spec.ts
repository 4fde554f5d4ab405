import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { registerCodecs } from "../../../src/kafka/engines/kafkajs/codecs";
import { confluentConsume, confluentProduce, type PeerRecord } from "../../support/confluent";
import { createTopic, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { kcat, kcatRecordAt } from "../../support/kcat";
import { storedCodecs } from "../../support/log-segments";
import { helper, kafkaBroker, kafkaIn, kafkaOut, loggedBy, statusFill, statusOf } from "../../support/node-red-helper";
import { waitFor } from "../../support/python";

const CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;

const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
/** Every byte value, repeated: librdkafka sends a batch uncompressed when compressing would not make it smaller. */
const EVERY_BYTE_REPEATED = Buffer.concat(Array.from({ length: 8 }, () => EVERY_BYTE));
const TEXT = JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2], note: "a compressible sentence, ".repeat(12) });

interface ReadMsg {
  topic: string;
  key: Buffer | null;
  payload: Buffer | null;
  offset: string;
  headers: Record<string, Buffer>;
}

interface DeliveredMsg {
  delivery: { topic: string; partition: number; offset: string };
}

function broker() {
  return { id: "codec-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "compression-interop-test" };
}

/** Records as confluent-kafka writes them: binary keys and header values, a tombstone, a record without a key. */
function peerRecords(codec: string): PeerRecord[] {
  return [
    { key: Buffer.from([0, 1, 0x3a, 0x0a, 255]), value: EVERY_BYTE_REPEATED, headers: [["blob", Buffer.from([255, 0, 1])], ["codec", Buffer.from(codec)]] },
    { key: Buffer.from(`py-${codec}`), value: Buffer.from(TEXT), headers: [["utf", Buffer.from("é", "utf8")]] },
    { key: Buffer.from("gone"), value: null, headers: [] },
    { key: null, value: Buffer.from(TEXT.repeat(2)), headers: [] },
  ];
}

/** A record as kafka-in gives it with Buffers for payload, key and headers. */
function asRead(record: PeerRecord): Omit<ReadMsg, "topic" | "offset"> {
  return { key: record.key, payload: record.value, headers: Object.fromEntries(record.headers.map(([name, value]) => [name, value ?? Buffer.alloc(0)])) };
}

/**
 * kafkajs has gzip alone built in, the other codecs come from npm packages; librdkafka
 * has all four. Other clients write (and the broker stores) whichever the producer
 * chose: librdkafka, in kcat and Confluent's Python client, is the peer on both sides.
 */
describe(`compressed topics with kcat and Python confluent-kafka as the other end (real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(240_000);
  afterEach(async () => {
    await helper.unload();
  });

  it("kafka-in reads every record kcat and confluent-kafka wrote in gzip, snappy, lz4 and zstd, keys, values and headers byte for byte", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "codecs-")), "every-byte.bin");
    fs.writeFileSync(file, EVERY_BYTE_REPEATED);
    const topicOf = new Map(CODECS.map((codec) => [codec, uniqueName(`written-${codec}`)]));
    /** Per topic, what was written in order: one partition, one writer at a time, so offset order. */
    const written = new Map<string, Omit<ReadMsg, "topic" | "offset">[]>();
    for (const [codec, topic] of topicOf) {
      await createTopic(topic, 1);
      const lineHeaders = { trace: Buffer.from("abc"), utf: Buffer.from("é", "utf8") };
      // line mode: "key:value" per line, the -H headers on every record
      await kcat(["-P", "-t", topic, "-z", codec, "-K:", "-H", "trace=abc", "-H", "utf=é"], `k1:${TEXT}\nk2:${TEXT.toUpperCase()}\n`);
      // file mode: the file is one record's value, every byte value included
      await kcat(["-P", "-t", topic, "-z", codec, "-k", "bin key", "-H", "blob=a\tb", file]);
      await confluentProduce(topic, codec, peerRecords(codec));
      written.set(topic, [
        { key: Buffer.from("k1"), payload: Buffer.from(TEXT), headers: lineHeaders },
        { key: Buffer.from("k2"), payload: Buffer.from(TEXT.toUpperCase()), headers: lineHeaders },
        { key: Buffer.from("bin key"), payload: EVERY_BYTE_REPEATED, headers: { blob: Buffer.from("a\tb") } },
        ...peerRecords(codec).map(asRead),
      ]);
    }
    // the test reads what it means to: every batch in the topic is in that codec
    const stored = await storedCodecs([...topicOf.values()]);
    for (const [codec, topic] of topicOf) {
      const codecs = stored.get(topic) ?? [];
      assert.ok(codecs.length >= 3, `${topic}: a batch from each of the three writes at least, got ${codecs.length}`);
      assert.deepEqual(new Set(codecs), new Set([codec]), `${topic}: every batch stored in ${codec}`);
    }

    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "codec-flow", type: "tab" },
        broker(),
        {
          id: "codec-reader",
          type: "kafka-in",
          z: "codec-flow",
          broker: "codec-broker",
          topic: [...topicOf.values()].join(","),
          groupId: uniqueName("codec-reader-group"),
          fromBeginning: true,
          payloadFormat: "buffer",
          keyHeaderFormat: "buffer",
          wires: [["read-sink"]],
        },
        { id: "read-sink", type: "helper", z: "codec-flow" },
      ],
    );
    const read: ReadMsg[] = [];
    helper.getNode("read-sink").on("input", (msg: ReadMsg) => read.push(msg));
    const total = [...written.values()].reduce((sum, records) => sum + records.length, 0);
    await waitFor(() => read.length >= total, 120_000, `the ${total} records written in four codecs`);
    assert.equal(read.length, total);
    for (const [topic, records] of written) {
      const got = read
        .filter((msg) => msg.topic === topic)
        .sort((a, b) => Number(a.offset) - Number(b.offset))
        .map(({ key, payload, headers }) => ({ key, payload, headers }));
      assert.deepEqual(got, records, `${topic}: every record as written`);
    }
  });

  it("kafka-out writes gzip, snappy, lz4 and zstd: stored so by the broker, read back byte for byte by kcat and confluent-kafka", async () => {
    const topicOf = new Map(CODECS.map((codec) => [codec, uniqueName(`kafka-out-${codec}`)]));
    for (const topic of topicOf.values()) await createTopic(topic, 1);
    await helper.load(
      [kafkaBroker, kafkaOut],
      [
        { id: "codec-flow", type: "tab" },
        broker(),
        ...[...topicOf].map(([codec, topic]) => ({
          id: `writer-${codec}`,
          type: "kafka-out",
          z: "codec-flow",
          broker: "codec-broker",
          topic,
          acks: "all",
          compression: codec,
          metadata: true,
          wires: [["written-sink"]],
        })),
        { id: "written-sink", type: "helper", z: "codec-flow" },
      ],
    );
    const delivered: DeliveredMsg[] = [];
    helper.getNode("written-sink").on("input", (msg: DeliveredMsg) => delivered.push(msg));
    const binaryKey = Buffer.from([0, 1, 0x3a, 0x0a, 255]);
    // no NUL: kcat's %h prints a header value as a C string
    const binaryHeader = Buffer.from([255, 1, 0x2c, 0x3d, 0x0a]);
    /** The msgs sent, and the record each must become. */
    const records: { msg: Record<string, unknown>; expected: PeerRecord }[] = [
      {
        msg: { key: binaryKey, payload: EVERY_BYTE_REPEATED, headers: { blob: binaryHeader, trace: "t-1" } },
        expected: { key: binaryKey, value: EVERY_BYTE_REPEATED, headers: [["blob", binaryHeader], ["trace", Buffer.from("t-1")]] },
      },
      { msg: { key: "text", payload: `é ${TEXT}` }, expected: { key: Buffer.from("text"), value: Buffer.from(`é ${TEXT}`, "utf8"), headers: [] } },
      { msg: { key: "json", payload: JSON.parse(TEXT) as unknown }, expected: { key: Buffer.from("json"), value: Buffer.from(TEXT), headers: [] } },
      { msg: { key: "gone", payload: null, headers: { reason: "deleted" } }, expected: { key: Buffer.from("gone"), value: null, headers: [["reason", Buffer.from("deleted")]] } },
      { msg: { payload: TEXT.repeat(2) }, expected: { key: null, value: Buffer.from(TEXT.repeat(2)), headers: [] } },
    ];
    // sent in one go, so that each node writes them as one batch
    for (const codec of CODECS) for (const { msg } of records) helper.getNode(`writer-${codec}`).receive({ ...msg });
    await waitFor(() => delivered.length === CODECS.length * records.length, 60_000, "a delivery report for every record");

    const stored = await storedCodecs([...topicOf.values()]);
    for (const [codec, topic] of topicOf) {
      const codecs = stored.get(topic) ?? [];
      assert.ok(codecs.length >= 1, `${topic}: stored batches`);
      assert.deepEqual(new Set(codecs), new Set([codec]), `${topic}: every batch stored in ${codec}`);

      const offsets = delivered
        .filter((msg) => msg.delivery.topic === topic)
        .map((msg) => msg.delivery.offset)
        .sort((a, b) => Number(a) - Number(b));
      assert.deepEqual(offsets, ["0", "1", "2", "3", "4"], `${topic}: five records, written in order`);

      const byPython = await confluentConsume(topic, records.length);
      assert.deepEqual(
        byPython.map(({ key, value, headers }) => ({ key, value, headers })),
        records.map(({ expected }) => expected),
        `${topic}: confluent-kafka reads every record as sent`,
      );

      for (const [index, { expected }] of records.entries()) {
        const byKcat = await kcatRecordAt(topic, 0, String(index));
        assert.deepEqual(byKcat.key, expected.key, `${topic}[${index}]: kcat reads the key`);
        assert.deepEqual(byKcat.value, expected.value, `${topic}[${index}]: kcat reads the value`);
        // kcat prints headers as name=value pairs joined by commas
        const headers = Buffer.concat(expected.headers.flatMap(([name, value], at) => [Buffer.from(`${at > 0 ? "," : ""}${name}=`), value ?? Buffer.alloc(0)]));
        assert.deepEqual(byKcat.headers, headers, `${topic}[${index}]: kcat reads the headers`);
      }
    }
  });

  describe("without the zstd package for kafkajs", () => {
    const load = createRequire(__filename);
    beforeEach(() =>
      registerCodecs((packageName) => {
        if (packageName === "zstd-napi") throw new Error("Cannot find module 'zstd-napi'");
        return load(packageName);
      }),
    );
    afterEach(() => registerCodecs());

    const reads = TEST_ENGINE === "kafkajs" ? "says which package is missing and what to do, and emits nothing" : "reads it all the same: librdkafka has zstd built in";
    it(`kafka-in reading a zstd topic ${reads}`, async () => {
      const topic = uniqueName("zstd-unreadable");
      await createTopic(topic, 1);
      await kcat(["-P", "-t", topic, "-z", "zstd", "-K:"], `k1:${TEXT}\nk2:${TEXT}\n`);
      assert.deepEqual(await storedCodecs([topic]).then((stored) => [...new Set(stored.get(topic))]), ["zstd"]);

      await helper.load(
        [kafkaBroker, kafkaIn],
        [
          { id: "codec-flow", type: "tab" },
          broker(),
          { id: "zstd-reader", type: "kafka-in", z: "codec-flow", broker: "codec-broker", topic, groupId: uniqueName("zstd-reader-group"), fromBeginning: true, payloadFormat: "buffer", wires: [["read-sink"]] },
          { id: "read-sink", type: "helper", z: "codec-flow" },
        ],
      );
      let emitted = 0;
      helper.getNode("read-sink").on("input", () => emitted++);
      if (TEST_ENGINE !== "kafkajs") {
        await waitFor(() => emitted === 2, 60_000, "both zstd records");
        assert.equal(statusOf("zstd-reader"), "subscribed");
        return;
      }
      await waitFor(() => statusFill("zstd-reader") === "red", 60_000, "kafka-in's red status");
      assert.match(statusOf("zstd-reader"), /^error: zstd compression needs the npm package zstd-napi/);
      const errors = loggedBy("zstd-reader").filter((entry) => entry.level === "error");
      assert.ok(
        errors.some((entry) => entry.msg.includes("npm install zstd-napi in the Node-RED user directory") && entry.msg.includes("librdkafka engine")),
        `an error says what to do; logged: ${JSON.stringify(errors)}`,
      );
      assert.equal(emitted, 0, "no record of the batch it cannot read");
    });
  });
});
