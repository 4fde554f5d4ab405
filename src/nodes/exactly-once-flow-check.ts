/** A node of the deployed flows, as far as the check needs it. */
export interface FlowNode {
  id: string;
  type: string;
  name?: string;
  wires?: string[][];
  /** link out and link call: the link in nodes they go to. */
  links?: string[];
  /** kafka-out: its kafka-broker. */
  broker?: string;
}

/**
 * Nodes that keep a msg inside Node-RED (they change, route, hold or show it). Any other
 * node a record reaches may act on the world (HTTP, a database, a file), which a Kafka
 * transaction cannot take back.
 */
const STAYS_INSIDE = new Set([
  "python-model", "kafka-out", "kafka-commit", "change", "switch", "function", "json", "csv", "yaml", "xml", "html", "template",
  "split", "join", "sort", "batch", "range", "delay", "trigger", "rbe", "filter", "debug", "link out", "link in", "link call", "junction",
]);

/** What a record of an exactly-once kafka-in may reach that its transaction does not cover, in words for the deploy warning. */
export function exactlyOnceLeaks(nodes: FlowNode[], startId: string, brokerId: string): string[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const seen = new Set<string>([startId]);
  const queue = [...next(byId.get(startId))];
  const leaks: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = byId.get(id);
    if (!node) continue;
    const named = node.name ? `"${node.name}" (${node.type})` : `${node.type} ${node.id}`;
    if (!STAYS_INSIDE.has(node.type)) leaks.push(`${named}: what it does is not part of the transaction`);
    else if (node.type === "kafka-out" && node.broker !== brokerId) leaks.push(`${named} writes through another kafka-broker: not part of the transaction`);
    queue.push(...next(node));
  }
  return leaks;
}

function next(node: FlowNode | undefined): string[] {
  if (!node) return [];
  return [...(node.wires ?? []).flat(), ...(node.type === "link out" || node.type === "link call" ? (node.links ?? []) : [])];
}
