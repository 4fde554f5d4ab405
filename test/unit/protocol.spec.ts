import * as assert from "node:assert/strict";
import { FrameDecoder, encodeFrame } from "../../src/python/protocol";

describe("worker protocol frames", () => {
  it("decodes frames split across chunks and several frames in one chunk", () => {
    const bytes = Buffer.concat([encodeFrame({ id: 1, ok: true }), encodeFrame({ id: 2, ok: true, results: [{ ok: true, value: "é" }] })]);
    const decoder = new FrameDecoder();
    const replies = [];
    for (let i = 0; i < bytes.length; i += 3) replies.push(...decoder.push(bytes.subarray(i, i + 3)));
    assert.deepEqual(
      replies.map((reply) => reply.id),
      [1, 2],
    );
    assert.deepEqual(replies[1], { id: 2, ok: true, results: [{ ok: true, value: "é" }] });
  });

  it("prefixes each body with its length in bytes, big-endian", () => {
    const frame = encodeFrame({ a: "é" });
    assert.equal(frame.readUInt32BE(0), Buffer.byteLength('{"a":"é"}'));
  });
});
