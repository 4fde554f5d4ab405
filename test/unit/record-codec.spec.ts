import * as assert from "node:assert/strict";
import type { KafkaMessage } from "kafkajs";
import { decodeRecord, encodeMessage, encodeValue, reportedRecord } from "../../src/kafka/record-codec";
import { parseTopics } from "../../src/kafka/topics";

function record(value: Buffer | null, extra: Partial<KafkaMessage> = {}): KafkaMessage {
  return { key: Buffer.from("k1"), value, timestamp: "1700000000000", attributes: 0, offset: "42", headers: {}, ...extra } as KafkaMessage;
}

const JSON_STRINGS = { payload: "json", keyHeaders: "string" } as const;

describe("record codec", () => {
  it("decodes a JSON record into msg properties with a settlement handle", () => {
    const { msg, error } = decodeRecord("in", 2, record(Buffer.from('{"features":[1,2]}'), { headers: { trace: Buffer.from("abc") } }), JSON_STRINGS, "node-1/x");
    assert.equal(error, undefined);
    assert.deepEqual(msg.payload, { features: [1, 2] });
    assert.equal(msg.key, "k1");
    assert.equal(msg.topic, "in");
    assert.equal(msg.partition, 2);
    assert.equal(msg.offset, "42");
    assert.equal(msg.timestamp, 1700000000000);
    assert.deepEqual(msg.headers, { trace: "abc" });
    assert.deepEqual(msg.kafka, { source: "node-1/x", topic: "in", partition: 2, offset: "42" });
  });

  it("keeps the original text and reports an error for a record that is not JSON", () => {
    const { msg, error } = decodeRecord("in", 0, record(Buffer.from("{not json")), JSON_STRINGS, "s");
    assert.equal(msg.payload, "{not json");
    assert.match(error?.message ?? "", /JSON/);
  });

  it("refuses JSON nested deeper than Node-RED can copy, keeping the text; depth inside strings does not count", () => {
    const nested = (levels: number): string => "[".repeat(levels) + "1" + "]".repeat(levels);
    const tooDeep = decodeRecord("in", 0, record(Buffer.from(nested(10_000))), JSON_STRINGS, "s");
    assert.equal(tooDeep.error?.reason, "too-deep");
    assert.equal(tooDeep.msg.payload, nested(10_000));
    assert.equal(decodeRecord("in", 0, record(Buffer.from(nested(1000))), JSON_STRINGS, "s").error, undefined);
    const bracketsInAString = JSON.stringify({ text: "[".repeat(5000) + '\\"' + "{".repeat(5000) });
    assert.equal(decodeRecord("in", 0, record(Buffer.from(bracketsInAString)), JSON_STRINGS, "s").error, undefined);
  });

  it("keeps the bytes of a key that is not UTF-8 in msg.kafka.keyBuffer when keys are given as strings", () => {
    const binaryKey = Buffer.from([0xff, 0x00, 0xfe]);
    const { msg } = decodeRecord("in", 0, record(Buffer.from("1"), { key: binaryKey }), JSON_STRINGS, "s");
    assert.ok(msg.kafka.keyBuffer?.equals(binaryKey));
    assert.equal(decodeRecord("in", 0, record(Buffer.from("1"), { key: Buffer.from("é-key") }), JSON_STRINGS, "s").msg.kafka.keyBuffer, undefined);
  });

  it("cuts a large value short in a msg rebuilt for an error report, saying how large it was", () => {
    const large = Buffer.from(JSON.stringify({ pad: "x".repeat(100_000) }));
    const msg = reportedRecord("in", 0, record(large), JSON_STRINGS, "s");
    assert.equal(typeof msg.payload, "string");
    assert.equal((msg.payload as string).length, 1024);
    assert.deepEqual(msg.truncated, { bytes: large.length });
    assert.deepEqual(reportedRecord("in", 0, record(Buffer.from('{"a":1}')), JSON_STRINGS, "s").payload, { a: 1 });
  });

  it("leaves text records as strings and null values as null", () => {
    assert.equal(decodeRecord("in", 0, record(Buffer.from("[1]")), { payload: "text", keyHeaders: "string" }, "s").msg.payload, "[1]");
    assert.equal(decodeRecord("in", 0, record(null), JSON_STRINGS, "s").msg.payload, null);
  });

  it("gives values, keys and headers as Buffers, byte for byte, when asked", () => {
    const bytes = Buffer.from([0, 255, 128, 10]);
    const { msg } = decodeRecord("in", 0, record(bytes, { key: Buffer.from([1, 2]), headers: { h: Buffer.from([3]) } }), { payload: "buffer", keyHeaders: "buffer" }, "s");
    assert.deepEqual(msg.payload, bytes);
    assert.deepEqual(msg.key, Buffer.from([1, 2]));
    assert.deepEqual(msg.headers, { h: Buffer.from([3]) });
  });

  it("encodes objects as JSON, strings as text, Buffers as bytes and null as a tombstone", () => {
    assert.equal(encodeValue({ label: "setosa" }), '{"label":"setosa"}');
    assert.equal(encodeValue(0.5), "0.5");
    assert.equal(encodeValue("plain"), "plain");
    assert.deepEqual(encodeValue(Buffer.from([0, 255])), Buffer.from([0, 255]));
    assert.equal(encodeValue(null), null);
  });

  it("takes key and headers from the msg", () => {
    const message = encodeMessage({ payload: [1], key: 17, headers: { a: "x", b: 2, skip: undefined } });
    assert.equal(message.key, "17");
    assert.deepEqual(message.headers, { a: "x", b: "2" });
  });

  it("decodes registry keys with the value decoder, and fails a record whose key it cannot read, keeping the key's bytes", () => {
    // a stand-in decoder: the wire format itself is tested against a real registry
    const decoder = {
      decode(bytes: Buffer | null) {
        if (!bytes || bytes[0] !== 0) throw new Error("not the wire format");
        return { payload: { id: bytes.readInt8(1) }, schema: { id: 7, type: "AVRO" } };
      },
    };
    const formats = { payload: "json", keyHeaders: "string", registryKeys: true } as const;
    const good = decodeRecord("in", 0, record(Buffer.from("{}"), { key: Buffer.from([0, 5]) }), formats, "n", decoder);
    assert.equal(good.error, undefined);
    assert.deepEqual(good.msg.key, { id: 5 });
    assert.deepEqual(good.msg.kafka.keySchema, { id: 7, type: "AVRO" });
    const bad = decodeRecord("in", 0, record(Buffer.from("{}"), { key: Buffer.from("plain") }), formats, "n", decoder);
    assert.equal(bad.error?.message, "the key: not the wire format");
    assert.deepEqual(bad.msg.key, Buffer.from("plain"));
    const keyless = decodeRecord("in", 0, record(Buffer.from("{}"), { key: null }), formats, "n", decoder);
    assert.equal(keyless.error, undefined);
    assert.equal(keyless.msg.key, null);
  });

  it("leaves the value or the key out of the record when another encoder writes it", () => {
    const message = encodeMessage({ payload: { a: 1 }, key: { id: 1 } }, { valueElsewhere: true, keyElsewhere: true });
    assert.equal(message.value, null);
    assert.equal(message.key, undefined);
  });
});

describe("parseTopics", () => {
  it("reads one topic, a comma-separated list, or a regular expression between slashes", () => {
    assert.deepEqual(parseTopics("orders"), ["orders"]);
    assert.deepEqual(parseTopics("orders, refunds"), ["orders", "refunds"]);
    const [pattern] = parseTopics("/^sensor-.*/");
    assert.ok(pattern instanceof RegExp && pattern.test("sensor-7") && !pattern.test("orders"));
  });

  it("takes partition and timestamp from the msg only when asked, and names a value it cannot use", () => {
    const msg = { payload: "x", partition: 2, timestamp: 1_700_000_000_000 };
    assert.deepEqual(encodeMessage(msg), { value: "x" });
    assert.deepEqual(encodeMessage(msg, { partition: true, timestamp: true }), { value: "x", partition: 2, timestamp: "1700000000000" });
    assert.equal(encodeMessage({ timestamp: new Date(5) }, { timestamp: true }).timestamp, "5");
    assert.equal(encodeMessage({ timestamp: "1970-01-01T00:00:01Z" }, { timestamp: true }).timestamp, "1000");
    assert.equal(encodeMessage({ partition: "3" }, { partition: true }).partition, 3);
    assert.throws(() => encodeMessage({ partition: 1.5 }, { partition: true }), { name: "RecordEncodeError", message: "msg.partition must be a whole number from 0, not 1.5" });
    assert.throws(() => encodeMessage({ partition: -1 }, { partition: true }), /not -1/);
    assert.throws(() => encodeMessage({ timestamp: "soon" }, { timestamp: true }), /msg.timestamp must be milliseconds since 1970, a Date or a date string, not "soon"/);
  });
});
