import * as assert from "node:assert/strict";
import { exactlyOnceLeaks, type FlowNode } from "../../src/nodes/exactly-once-flow-check";

describe("exactlyOnceLeaks", () => {
  const pipeline: FlowNode[] = [
    { id: "in", type: "kafka-in", wires: [["model"]] },
    { id: "model", type: "python-model", wires: [["route"]] },
    { id: "route", type: "switch", wires: [["out"], ["done"]] },
    { id: "out", type: "kafka-out", broker: "b1", wires: [] },
    { id: "done", type: "kafka-commit", wires: [] },
  ];

  it("finds nothing in a flow that stays within Node-RED and writes through the same broker", () => {
    assert.deepEqual(exactlyOnceLeaks(pipeline, "in", "b1"), []);
  });

  it("names a node that acts outside Node-RED, also through link nodes, and a kafka-out of another broker", () => {
    const nodes: FlowNode[] = [
      ...pipeline.map((node) => (node.id === "done" ? { ...node, wires: [["link"]] } : node)),
      { id: "link", type: "link out", links: ["far"] },
      { id: "far", type: "link in", wires: [["post", "other"]] },
      { id: "post", type: "http request", name: "webhook", wires: [] },
      { id: "other", type: "kafka-out", broker: "b2", wires: [] },
      { id: "unreached", type: "mqtt out", wires: [] },
    ];
    assert.deepEqual(exactlyOnceLeaks(nodes, "in", "b1"), [
      '"webhook" (http request): what it does is not part of the transaction',
      "kafka-out other writes through another kafka-broker: not part of the transaction",
    ]);
  });

  it("does not loop on a cycle", () => {
    const nodes: FlowNode[] = [
      { id: "in", type: "kafka-in", wires: [["a"]] },
      { id: "a", type: "function", wires: [["b"]] },
      { id: "b", type: "delay", wires: [["a", "file"]] },
      { id: "file", type: "file", wires: [] },
    ];
    assert.deepEqual(exactlyOnceLeaks(nodes, "in", "b1"), ["file file: what it does is not part of the transaction"]);
  });
});
