import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { Kafka, logLevel, type KafkaMessage } from "kafkajs";
import type { NodeRedProcess } from "../../scripts/lib/node-red-process";
import { testBrokers, uniqueName } from "./kafka";
import { childrenOf, PYTHON, writeHandler } from "./python";

/**
 * The model of the exactly-once tests: a result anyone can check from the record alone
 * (the sum of its numbers), 20 ms per batch, so that a fault lands mid-stream.
 */
export const SUMMING_MODEL = writeHandler(
  "slow_sum",
  "import time\ndef load(p, c):\n    return None\n\ndef predict(m, batch):\n    time.sleep(0.02)\n    return [{'sum': sum(row)} for row in batch]\n",
);

/** Input record i: key "i", value [i, 1, 2]; its result's sum is i + 3. */
export function inputRecords(count: number, from = 0): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, index) => ({ key: String(from + index), value: JSON.stringify([from + index, 1, 2]) }));
}

export interface FlowOptions {
  input: string;
  output: string;
  groupId: string;
  brokers?: string;
  maxUnsettled?: number;
  deadLetterTopic?: string;
  deliveryMode?: string;
  workers?: number;
  /** kafka-in's transaction interval, ms (its default when absent). */
  transactionMs?: number;
  /** The model's handler; SUMMING_MODEL by default. */
  handlerPath?: string;
  /** The kafka-broker's client id; by default the environment variable EO_INSTANCE (a runtime's name). */
  clientId?: string;
  /** kafka-in's output: one msg per record (the default) or per batch of up to 50 records. */
  outputMode?: "record" | "batch";
}

/** kafka-in (exactly-once) → python-model → kafka-out, with a Catch that logs what it gets. */
export function exactlyOnceFlow(options: FlowOptions): object[] {
  return [
    { id: "eo-flow", type: "tab", label: "exactly-once" },
    { id: "eo-broker", type: "kafka-broker", engine: "librdkafka", brokers: options.brokers ?? testBrokers(), clientId: options.clientId ?? "${EO_INSTANCE}" },
    {
      id: "eo-in",
      type: "kafka-in",
      z: "eo-flow",
      broker: "eo-broker",
      topic: options.input,
      groupId: options.groupId,
      fromBeginning: true,
      payloadFormat: "json",
      deliveryMode: options.deliveryMode ?? "exactly-once",
      maxUnsettled: options.maxUnsettled ?? 500,
      transactionMs: options.transactionMs,
      deadLetterTopic: options.deadLetterTopic ?? "",
      outputMode: options.outputMode ?? "record",
      batchRecords: 50,
      wires: [["eo-model"]],
    },
    { id: "eo-model", type: "python-model", z: "eo-flow", kind: "python", handlerPath: options.handlerPath ?? SUMMING_MODEL, python: PYTHON, batchSize: 10, maxWaitMs: 5, timeoutMs: 30000, workers: options.workers ?? 1, wires: [["eo-out"]] },
    { id: "eo-out", type: "kafka-out", z: "eo-flow", broker: "eo-broker", topic: options.output, acks: "all", wires: [] },
    { id: "eo-catch", type: "catch", z: "eo-flow", scope: null, uncaught: false, wires: [["eo-failures"]] },
    { id: "eo-failures", type: "debug", z: "eo-flow", name: "caught", active: true, tosidebar: false, console: true, complete: "error", targetType: "msg", wires: [] },
  ];
}

/** The Node-RED runtime process under the shell that started it (Node-RED renames its process). */
export function runtimePid(nodeRed: NodeRedProcess): number {
  const runtime = childrenOf(nodeRed.pid as number).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("node-red"));
  assert.equal(runtime.length, 1, "one Node-RED process");
  return runtime[0];
}

/**
 * Every record of a topic as a reader of the given isolation sees it, read until no
 * new record has come for `quietMs` after at least `atLeast` arrived.
 */
export async function readAll(topic: string, atLeast: number, options: { readUncommitted?: boolean; timeoutMs?: number; quietMs?: number; brokers?: string } = {}): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ clientId: "exactly-once-verifier", brokers: [options.brokers ?? testBrokers()], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName("verifier"), readUncommitted: options.readUncommitted ?? false });
  const received: KafkaMessage[] = [];
  let lastAt = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
        lastAt = Date.now();
      },
    });
    const deadline = Date.now() + (options.timeoutMs ?? 180_000);
    const quietMs = options.quietMs ?? 4000;
    while (received.length < atLeast || Date.now() - lastAt < quietMs) {
      if (Date.now() > deadline) throw new Error(`${received.length} of ${atLeast} records read from ${topic}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** What a read_committed reader of the output must see: every input key exactly once, with its right result. */
export async function assertExactlyOnce(output: string, count: number, brokers?: string): Promise<void> {
  const records = await readAll(output, count, { brokers });
  const seen = new Map<string, number>();
  for (const record of records) {
    const key = String(record.key);
    seen.set(key, (seen.get(key) ?? 0) + 1);
    assert.equal((JSON.parse(String(record.value)) as { sum: number }).sum, Number(key) + 3, `the result of record ${key}`);
  }
  const duplicates = [...seen.values()].filter((times) => times > 1).length;
  const lost = Array.from({ length: count }, (_, index) => String(index)).filter((key) => !seen.has(key));
  assert.deepEqual({ lost: lost.length, duplicates, records: records.length }, { lost: 0, duplicates: 0, records: count });
}
