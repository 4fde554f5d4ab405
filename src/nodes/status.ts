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

const STATUS_TEXT_MAX = 60;

/** An error's first line, short enough for the status under a node; the full text goes to the log. */
export function shortReason(error: Error | string | undefined): string {
  const line = (typeof error === "string" ? error : (error?.message ?? "")).split("\n")[0];
  return line.length > STATUS_TEXT_MAX ? `${line.slice(0, STATUS_TEXT_MAX - 1)}…` : line;
}
