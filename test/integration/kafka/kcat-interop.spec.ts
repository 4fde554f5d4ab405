import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut } from "../../support/node-red-helper";
import { createTopic, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { kcat, kcatRecordAt } from "../../support/kcat";
import { waitFor } from "../../support/python";

interface ReadMsg {
  key: Buffer | null;
  payload: Buffer | null;
  offset: string;
  headers: Record<string, Buffer>;
}

interface DeliveredMsg {
  key?: unknown;
  delivery: { topic: string; partition: number; offset: string };
}

const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, index) => index));

function broker() {
  return { id: "kcat-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "kcat-interop-test" };
}

/** kafka-in and kafka-out against kcat, a librdkafka client: the bytes on the wire are Kafka's, not just kafkajs's. */
describe(`kafka-in and kafka-out with kcat as the other end (real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(120_000);
  afterEach(async () => {
    await helper.unload();
  });

  it("kafka-in reads what kcat wrote: keys, values, tombstones and headers byte for byte", async () => {
    const topic = uniqueName("from-kcat");
    await createTopic(topic, 1);
    // line mode: "key:value" per line, -Z makes the empty value a tombstone, -H adds headers to every record
    await kcat(["-P", "-t", topic, "-K:", "-Z", "-H", "trace=abc", "-H", "utf=é"], 'k1:plain text\nk2:{"a":[1,2]}\ngone:\n');
    // file mode: the whole file is one record's value, every byte value included
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kcat-")), "every-byte.bin");
    fs.writeFileSync(file, EVERY_BYTE);
    await kcat(["-P", "-t", topic, "-k", "bin key", "-H", "blob=a\tb", file]);

    await helper.load(
      [kafkaBroker, kafkaIn, catchNode],
      [
        { id: "kcat-flow", type: "tab" },
        broker(),
        { id: "kcat-reader", type: "kafka-in", z: "kcat-flow", broker: "kcat-broker", topic, groupId: uniqueName("kcat-reader-group"), fromBeginning: true, payloadFormat: "buffer", keyHeaderFormat: "buffer", wires: [["read-sink"]] },
        { id: "read-sink", type: "helper", z: "kcat-flow" },
      ],
    );
    const read: ReadMsg[] = [];
    helper.getNode("read-sink").on("input", (msg: ReadMsg) => read.push(msg));
    await waitFor(() => read.length >= 4, 60_000, "the four records kcat wrote");
    const byOffset = new Map(read.map((msg) => [msg.offset, msg]));
    assert.equal(read.length, 4);

    const lineHeaders = { trace: Buffer.from("abc"), utf: Buffer.from("é", "utf8") };
    assert.deepEqual(byOffset.get("0")?.key, Buffer.from("k1"));
    assert.deepEqual(byOffset.get("0")?.payload, Buffer.from("plain text"));
    assert.deepEqual(byOffset.get("0")?.headers, lineHeaders);
    assert.deepEqual(byOffset.get("1")?.key, Buffer.from("k2"));
    assert.deepEqual(byOffset.get("1")?.payload, Buffer.from('{"a":[1,2]}'));
    assert.deepEqual(byOffset.get("1")?.headers, lineHeaders);
    assert.deepEqual(byOffset.get("2")?.key, Buffer.from("gone"));
    assert.equal(byOffset.get("2")?.payload, null, "kcat's tombstone arrives as payload null");
    assert.deepEqual(byOffset.get("3")?.key, Buffer.from("bin key"));
    assert.ok(byOffset.get("3")?.payload?.equals(EVERY_BYTE), "all 256 byte values survive");
    assert.deepEqual(byOffset.get("3")?.headers, { blob: Buffer.from("a\tb") });
  });

  it("kcat reads what kafka-out wrote: keys, values, tombstones and headers byte for byte", async () => {
    const topic = uniqueName("to-kcat");
    await createTopic(topic, 1);
    await helper.load(
      [kafkaBroker, kafkaOut, catchNode],
      [
        { id: "kcat-flow", type: "tab" },
        broker(),
        { id: "kcat-writer", type: "kafka-out", z: "kcat-flow", broker: "kcat-broker", topic, acks: "all", metadata: true, wires: [["written-sink"]] },
        { id: "written-sink", type: "helper", z: "kcat-flow" },
      ],
    );
    const delivered: DeliveredMsg[] = [];
    helper.getNode("written-sink").on("input", (msg: DeliveredMsg) => delivered.push(msg));
    const binaryKey = Buffer.from([0, 1, 0x3a, 0x0a, 255]); // NUL, ':' and newline: kcat's own delimiters
    // ',' and '=' too, but no NUL: kcat's %h prints a header value as a C string
    const binaryHeader = Buffer.from([255, 1, 0x2c, 0x3d, 0x0a]);
    const writer = helper.getNode("kcat-writer");
    writer.receive({ key: binaryKey, payload: EVERY_BYTE, headers: { blob: binaryHeader, trace: "t-1" } });
    writer.receive({ key: "text", payload: "é plain, with | delimiters\n" });
    writer.receive({ key: "json", payload: { a: [1, "two"], ok: true } });
    writer.receive({ key: "gone", payload: null, headers: { reason: "deleted" } });
    writer.receive({ payload: "no key" });
    await waitFor(() => delivered.length === 5, 30_000, "five delivery reports");

    const offsetOf = (key: string | Buffer | undefined): string => {
      const found = delivered.find((msg) => (key === undefined ? msg.key === undefined : Buffer.from(msg.key as Buffer | string).equals(Buffer.from(key))));
      assert.ok(found, `a delivery report for key ${String(key)}`);
      return found.delivery.offset;
    };
    const binary = await kcatRecordAt(topic, 0, offsetOf(binaryKey));
    assert.deepEqual(binary.key, binaryKey);
    assert.ok(binary.value?.equals(EVERY_BYTE), "all 256 byte values survive");
    assert.deepEqual(binary.headers, Buffer.concat([Buffer.from("blob="), binaryHeader, Buffer.from(",trace=t-1")]));

    const text = await kcatRecordAt(topic, 0, offsetOf("text"));
    assert.deepEqual(text.value, Buffer.from("é plain, with | delimiters\n", "utf8"));
    assert.equal(text.headers.length, 0, "no headers when the msg has none");

    const json = await kcatRecordAt(topic, 0, offsetOf("json"));
    assert.deepEqual(json.value, Buffer.from('{"a":[1,"two"],"ok":true}'));

    const tombstone = await kcatRecordAt(topic, 0, offsetOf("gone"));
    assert.equal(tombstone.value, null, "payload null is written as a tombstone");
    assert.deepEqual(tombstone.headers, Buffer.from("reason=deleted"));

    const keyless = await kcatRecordAt(topic, 0, offsetOf(undefined));
    assert.equal(keyless.key, null, "no msg.key, no record key");
    assert.deepEqual(keyless.value, Buffer.from("no key"));

    // and kcat's JSON envelope agrees on what is there: five records in kafka-out's order of arrival
    const lines = (await kcat(["-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J"])).toString("utf8").trim().split("\n");
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { key: string | null }).key),
      [binaryKey.toString("utf8"), "text", "json", "gone", null],
    );
  });
});
