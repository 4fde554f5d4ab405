import * as fs from "node:fs";
import * as path from "node:path";
import type { NodeAPI } from "node-red";
import helper from "node-red-node-test-helper";
import kafkaBrokerModule = require("../../src/nodes/kafka-broker");
import kafkaCommitModule = require("../../src/nodes/kafka-commit");
import kafkaInModule = require("../../src/nodes/kafka-in");
import kafkaOutModule = require("../../src/nodes/kafka-out");
import pythonModelModule = require("../../src/nodes/python-model");
import schemaRegistryModule = require("../../src/nodes/schema-registry");
import { PACKAGE_ROOT } from "../../src/package-paths";
import { waitFor } from "./python";

helper.init(require.resolve("node-red"));

export { helper };

type NodeModule = (RED: NodeAPI) => void;

const catalogue: Record<string, unknown> = {};
for (const file of fs.readdirSync(path.join(PACKAGE_ROOT, "nodes", "locales", "en-US"))) {
  if (file.endsWith(".json")) Object.assign(catalogue, JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "nodes", "locales", "en-US", file), "utf8")));
}

/** Node-RED's i18n lookup with our en-US catalogue: the test helper's RED._ returns bare keys. */
function translate(key: string, values: Record<string, unknown> = {}): string {
  const found = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], catalogue);
  if (typeof found !== "string") return key;
  return found.replace(/__(\w+)__/g, (_, name: string) => String(values[name] ?? ""));
}

/** Wraps a compiled node module so that it runs with the real message catalogue. */
export function withMessages(nodeModule: NodeModule): NodeModule {
  return (RED) => {
    (RED as unknown as { _: typeof translate })._ = translate;
    nodeModule(RED);
  };
}

/** Node-RED's core Catch node, for flows that check what reaches Catch. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS file inside node-red
export const catchNode = require("@node-red/nodes/core/common/25-catch.js") as NodeModule;
export const kafkaBroker = withMessages(kafkaBrokerModule);
export const kafkaCommit = withMessages(kafkaCommitModule);
export const kafkaIn = withMessages(kafkaInModule);
export const kafkaOut = withMessages(kafkaOutModule);
export const pythonModel = withMessages(pythonModelModule);
export const schemaRegistry = withMessages(schemaRegistryModule);
export const allNodes = [kafkaBroker, kafkaIn, kafkaOut, kafkaCommit, pythonModel, schemaRegistry, catchNode];

/** Every status a node has shown, oldest first. The helper records status calls on one spy shared by every node: this node's are picked out. */
export function statusesOf(nodeId: string): { fill?: string; text?: string }[] {
  const node = helper.getNode(nodeId) as unknown as { status: { getCalls(): { thisValue: unknown; args: [{ fill?: string; text?: string }] }[] } };
  return node.status
    .getCalls()
    .filter((call) => call.thisValue === node)
    .map((call) => call.args[0]);
}

/** The text of a node's latest status. */
export function statusOf(nodeId: string): string {
  return statusesOf(nodeId).at(-1)?.text ?? "";
}

/** Waits until a node's status text passes `test`; on timeout, says which statuses it showed. */
export async function waitForStatus(nodeId: string, test: RegExp | string, timeoutMs: number, what: string): Promise<void> {
  const passes = (text: string) => (typeof test === "string" ? text === test : test.test(text));
  try {
    await waitFor(() => passes(statusOf(nodeId)), timeoutMs, what);
  } catch (error) {
    const shown = [...new Set(statusesOf(nodeId).map((status) => status.text ?? ""))].slice(-5);
    throw new Error(`${(error as Error).message}; ${nodeId}'s last statuses: ${JSON.stringify(shown)}`);
  }
}

/** The colour of a node's latest status (green, yellow, red, grey). */
export function statusFill(nodeId: string): string | undefined {
  return statusesOf(nodeId).at(-1)?.fill;
}

/** What a node has logged (node.log, warn, error, debug) since the flow was loaded, with the level's name. */
export function loggedBy(nodeId: string): { level: "error" | "warn" | "info" | "debug" | "other"; msg: string }[] {
  const log = helper.log();
  const names = new Map<number, "error" | "warn" | "info" | "debug">([
    [log.ERROR, "error"],
    [log.WARN, "warn"],
    [log.INFO, "info"],
    [log.DEBUG, "debug"],
  ]);
  return log
    .getCalls()
    .map((call) => call.args[0])
    .filter((entry) => entry.id === nodeId)
    .map((entry) => ({ level: names.get(entry.level) ?? "other", msg: String(entry.msg) }));
}
