import type { Node } from "node-red";

/** The four looks a node status takes, so nodes never spell out colours and shapes. */
export type StatusLook = "ok" | "busy" | "error" | "off";

const looks = {
  ok: { fill: "green", shape: "dot" },
  busy: { fill: "yellow", shape: "ring" },
  error: { fill: "red", shape: "ring" },
  off: { fill: "grey", shape: "ring" },
} as const;

export function showStatus(node: Node, look: StatusLook, text: string): void {
  node.status({ ...looks[look], text });
}
