import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A node for real Node-RED processes (scripts/lib/node-red-process.ts) that counts the
 * msgs it receives and serves that count with the runtime's heap at
 * GET /heap-probe/<node id>. Memory is measured in a real runtime because
 * node-red-node-test-helper's sinon spies keep every msg ever sent.
 */
const PROBE_NODE = `module.exports = function (RED) {
  const counts = new Map();
  RED.httpAdmin.get("/heap-probe/:id", (req, res) => {
    const collected = typeof global.gc === "function";
    // a full collection first, so that the heap reported is what is still referenced
    if (collected) global.gc();
    res.json({ count: counts.get(req.params.id) || 0, heapUsed: process.memoryUsage().heapUsed, collected });
  });
  function HeapProbe(config) {
    RED.nodes.createNode(this, config);
    counts.set(this.id, 0);
    this.on("input", (msg, send, done) => {
      counts.set(this.id, counts.get(this.id) + 1);
      done();
    });
  }
  RED.nodes.registerType("heap-probe", HeapProbe);
};
`;
const PROBE_HTML = `<script type="text/javascript">RED.nodes.registerType("heap-probe", { category: "common", defaults: {}, inputs: 1, outputs: 0 });</script>`;

/** Node-RED needs this to let the probe collect garbage before it reads the heap. */
export const HEAP_PROBE_ENV = { NODE_OPTIONS: "--expose-gc" };

export interface HeapReading {
  /** Msgs the probe node has received. */
  count: number;
  /** Bytes of V8 heap in use, after a full collection when `collected`. */
  heapUsed: number;
  collected: boolean;
}

/** Puts the probe node in the user directory's nodes folder, where Node-RED loads it at start. */
export function installHeapProbe(userDir: string): void {
  const nodes = path.join(userDir, "nodes");
  fs.mkdirSync(nodes, { recursive: true });
  fs.writeFileSync(path.join(nodes, "heap-probe.js"), PROBE_NODE);
  fs.writeFileSync(path.join(nodes, "heap-probe.html"), PROBE_HTML);
}

export async function readHeapProbe(url: string, nodeId: string): Promise<HeapReading> {
  const response = await fetch(`${url}/heap-probe/${nodeId}`);
  if (!response.ok) throw new Error(`heap probe: ${response.status} ${await response.text()}`);
  return (await response.json()) as HeapReading;
}
