import * as assert from "node:assert/strict";
import { FrameDecoder, encodeFrame, numericRows, type OutputTable } from "../../src/python/protocol";

function decodeOne(frame: Buffer): ReturnType<FrameDecoder["push"]>[number] {
  const replies = new FrameDecoder().push(frame);
  assert.equal(replies.length, 1);
  return replies[0];
}

function tableReply(outputs: OutputTable, numbers: number[]): Buffer {
  return encodeFrame({ id: 7, ok: true, outputs }, Float64Array.from(numbers));
}

describe("worker protocol frames", () => {
  it("decodes frames split across chunks and several frames in one chunk", () => {
    const bytes = Buffer.concat([
      encodeFrame({ id: 1, ok: true }),
      encodeFrame({ id: 2, ok: true, results: [{ ok: true, value: "é" }] }),
      tableReply({ mode: "value", shape: [2] }, [0.25, -1.5]),
    ]);
    const decoder = new FrameDecoder();
    const replies = [];
    for (let i = 0; i < bytes.length; i += 3) replies.push(...decoder.push(bytes.subarray(i, i + 3)));
    assert.deepEqual(
      replies.map((reply) => reply.id),
      [1, 2, 7],
    );
    assert.deepEqual(replies[1], { id: 2, ok: true, results: [{ ok: true, value: "é" }] });
    assert.deepEqual(replies[2].ok && replies[2].results, [
      { ok: true, value: 0.25 },
      { ok: true, value: -1.5 },
    ]);
  });

  it("lays out a frame as its length, the header's length, the JSON header, then little-endian float64 numbers", () => {
    const frame = encodeFrame({ a: "é" }, Float64Array.from([1.5, -2]));
    const header = Buffer.byteLength('{"a":"é"}');
    assert.equal(frame.readUInt32BE(0), 4 + header + 16);
    assert.equal(frame.readUInt32BE(4), header);
    assert.equal(frame.toString("utf8", 8, 8 + header), '{"a":"é"}');
    assert.deepEqual([frame.readDoubleLE(8 + header), frame.readDoubleLE(16 + header)], [1.5, -2]);
  });

  it("puts rows that are all numbers of one shape in one block, rows first", () => {
    assert.deepEqual(
      numericRows([
        [1, 2, 3],
        [4, 5, 6.5],
      ]),
      { shape: [2, 3], numbers: Float64Array.from([1, 2, 3, 4, 5, 6.5]) },
    );
    assert.deepEqual(numericRows([[[1], [2]]]), { shape: [1, 2, 1], numbers: Float64Array.from([1, 2]) });
  });

  it("leaves rows of different shapes, or with anything but numbers, to JSON", () => {
    assert.equal(numericRows([[1, 2], [3]]), undefined);
    assert.equal(numericRows([[1, 2], [3, "4"]]), undefined);
    assert.equal(numericRows([[[1, 2]], [[3]]]), undefined);
    assert.equal(numericRows([5, 6]), undefined);
    assert.equal(numericRows([]), undefined);
  });

  it("builds label results from scores, taking the first of equal best scores as numpy's argmax does", () => {
    const reply = decodeOne(tableReply({ mode: "label", shape: [2, 3], labels: ["a", "b", "c"] }, [0.1, 0.7, 0.2, 0.4, 0.2, 0.4]));
    assert.deepEqual(reply.ok && reply.results, [
      { ok: true, value: { label: "b", score: 0.7, probabilities: [0.1, 0.7, 0.2] } },
      { ok: true, value: { label: "a", score: 0.4, probabilities: [0.4, 0.2, 0.4] } },
    ]);
  });

  it("gives raw results in each row's own shape", () => {
    const matrices = decodeOne(tableReply({ mode: "raw", shape: [1, 2, 3] }, [1, 2, 3, 4, 5, 6]));
    assert.deepEqual(matrices.ok && matrices.results, [
      {
        ok: true,
        value: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
    ]);
    const scalars = decodeOne(tableReply({ mode: "raw", shape: [2] }, [3, 4]));
    assert.deepEqual(scalars.ok && scalars.results, [
      { ok: true, value: 3 },
      { ok: true, value: 4 },
    ]);
  });

  it("refuses a reply whose numbers do not fill the shape it names", () => {
    assert.throws(() => decodeOne(tableReply({ mode: "value", shape: [3] }, [1, 2])), /3 rows of 1 numbers has 16 bytes/);
  });
});
