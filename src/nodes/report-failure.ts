import type { Node, NodeMessageInFlow } from "node-red";

/**
 * Ends a msg with an error for Catch nodes. Node-RED copies the msg for each Catch node,
 * recursively: a value nested a few thousand levels deep overflows the stack there, and
 * that exception, thrown out of the node, would stop Node-RED. Such a msg reaches Catch
 * as a copy of its plain top-level properties (and its Kafka settlement handle) with
 * the others replaced by a note, and the error says why.
 */
export function failMessage(node: Node, msg: NodeMessageInFlow, error: Error, done: (error?: Error) => void): void {
  try {
    done(error);
  } catch (thrown) {
    if (!(thrown instanceof RangeError)) throw thrown;
    node.error(`${String(error)} (the msg is nested too deeply for Node-RED to copy: Catch gets its plain properties only)`, copyableStandIn(msg));
  }
}

const NOT_COPIED = "(not copied: nested too deeply)";

function copyableStandIn(msg: NodeMessageInFlow): NodeMessageInFlow {
  const standIn: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(msg)) {
    const plain = value === null || typeof value !== "object";
    standIn[name] = plain || name === "kafka" ? value : NOT_COPIED;
  }
  return standIn as NodeMessageInFlow;
}
