import * as assert from "node:assert/strict";
import type { KafkaMessage } from "kafkajs";
import { decodeRecord, encodeMessage, encodeValue } from "../../src/kafka/record-codec";

function record(value: Buffer | null, extra: Partial<KafkaMessage> = {}): KafkaMessage {
  return { key: Buffer.from("k1"), value, timestamp: "1700000000000", attributes: 0, offset: "42", headers: {}, ...extra } as KafkaMessage;
}

describe("record codec", () => {
  it("decodes a JSON record into msg properties with a settlement handle", () => {
    const { msg, error } = decodeRecord("in", 2, record(Buffer.from('{"features":[1,2]}'), { headers: { trace: Buffer.from("abc") } }), "json", "node-1/x");
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
    const { msg, error } = decodeRecord("in", 0, record(Buffer.from("{not json")), "json", "s");
    assert.equal(msg.payload, "{not json");
    assert.match(error?.message ?? "", /JSON/);
  });

  it("leaves text records as strings and null values as null", () => {
    assert.equal(decodeRecord("in", 0, record(Buffer.from("[1]")), "text", "s").msg.payload, "[1]");
    assert.equal(decodeRecord("in", 0, record(null), "json", "s").msg.payload, null);
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
});
