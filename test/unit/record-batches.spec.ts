import * as assert from "node:assert/strict";
import { batchMessage, isBatchMessage, withRows } from "../../src/kafka/record-batches";
import { decodeRecord } from "../../src/kafka/record-codec";
import { registerSettler, settleMessage, type SettlementHandle } from "../../src/kafka/settlement";

const formats = { payload: "json", keyHeaders: "string" } as const;
const decoded = (offset: number) =>
  decodeRecord("in", 2, { key: Buffer.from(`k${offset}`), value: Buffer.from(`[${offset}]`), headers: { trace: `t${offset}` }, offset: String(offset), timestamp: String(1000 + offset) }, formats, "batch-source").msg;

describe("batch msgs (kafka-in's one message per batch)", () => {
  it("carries the records' values in msg.payload and, in the same order, their offsets, keys, headers and timestamps", () => {
    const msg = batchMessage([decoded(4), decoded(5), decoded(7)]);
    assert.deepEqual(msg.payload, [[4], [5], [7]]);
    assert.equal(msg.topic, "in");
    assert.equal(msg.partition, 2);
    assert.deepEqual(msg.kafka, {
      source: "batch-source",
      topic: "in",
      partition: 2,
      offset: "4",
      lastOffset: "7",
      offsets: ["4", "5", "7"],
      keys: ["k4", "k5", "k7"],
      headers: [{ trace: "t4" }, { trace: "t5" }, { trace: "t7" }],
      timestamps: [1004, 1005, 1007],
    });
    assert.ok(isBatchMessage(msg));
    assert.ok(!isBatchMessage(decoded(4)), "a record's msg is not a batch");
    assert.ok(!isBatchMessage({ payload: [1, 2] }), "nor is any array payload");
  });

  it("narrows a batch to some of its rows, leaving the msg it came from as it was", () => {
    const msg = batchMessage([decoded(4), decoded(5), decoded(7)]);
    const narrowed = withRows(msg, [0, 2]);
    assert.deepEqual(narrowed.kafka.offsets, ["4", "7"]);
    assert.deepEqual(narrowed.kafka.keys, ["k4", "k7"]);
    assert.deepEqual(narrowed.kafka.timestamps, [1004, 1007]);
    assert.equal(narrowed.kafka.offset, "4");
    assert.equal(narrowed.kafka.lastOffset, "7");
    assert.deepEqual(withRows(msg, [1]).kafka.offset, "5");
    assert.deepEqual(msg.kafka.offsets, ["4", "5", "7"], "the original keeps its rows");
  });

  it("settles each record of a batch once, with the batch's outcome", () => {
    const settled: [SettlementHandle, string][] = [];
    const unregister = registerSettler("batch-source", (handle, outcome) => settled.push([handle, outcome]));
    try {
      const msg = batchMessage([decoded(4), decoded(5), decoded(7)]);
      assert.ok(settleMessage(withRows(msg, [1, 2]), "processed"));
      assert.ok(settleMessage(withRows(msg, [0]), "failed", { error: "bad row", node: "model" }));
    } finally {
      unregister();
    }
    assert.deepEqual(
      settled.map(([handle, outcome]) => [handle.offset, handle.partition, outcome]),
      [
        ["5", 2, "processed"],
        ["7", 2, "processed"],
        ["4", 2, "failed"],
      ],
    );
  });
});
