import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./project";

export const EXAMPLES_DIR = path.join(ROOT, "examples", "flows");

export interface FlowNode {
  id: string;
  type: string;
  [property: string]: unknown;
}

export function exampleNames(): string[] {
  return fs
    .readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.replace(/\.json$/, ""))
    .sort();
}

/** An example flow as the Import menu would give it, with its broker nodes pointed at `brokers` and its registries at `registryUrl`. */
export function readExample(name: string, brokers?: string, registryUrl?: string): FlowNode[] {
  const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, `${name}.json`), "utf8")) as FlowNode[];
  return flow.map((node) => {
    if (node.type === "kafka-broker" && brokers) return { ...node, brokers };
    if (node.type === "schema-registry" && registryUrl) return { ...node, urls: registryUrl };
    return node;
  });
}

/**
 * Every topic the examples read or write by name (kafka-in topics and dead-letter
 * topics, kafka-out topics), so that the demo can create them before the flows start.
 */
export function exampleTopics(): string[] {
  const topics = new Set<string>();
  for (const name of exampleNames()) {
    for (const node of readExample(name)) {
      if (!node.type.startsWith("kafka-")) continue;
      for (const property of ["topic", "deadLetterTopic"]) {
        const value = node[property];
        if (typeof value !== "string") continue;
        // a regular expression between slashes names no topic; a list names several
        if (!value.startsWith("/")) value.split(",").forEach((topic) => topic.trim() && topics.add(topic.trim()));
      }
    }
  }
  return [...topics].sort();
}
