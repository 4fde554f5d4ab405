import * as fs from "node:fs";
import * as path from "node:path";
import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs";
import { HOLDOUT_ROWS } from "./lib/demo-model";
import { startEmbeddedKafka, type EmbeddedKafka } from "./lib/embedded-kafka";
import { exampleTopics, readExample } from "./lib/example-flows";
import { startNodeRed, type NodeRedProcess } from "./lib/node-red-process";
import { KAFKA_HOME, ROOT, step } from "./lib/project";
import { setup } from "./setup";

const INPUT_TOPIC = "iris-in";
const OUTPUT_TOPIC = "iris-scored";
const DEMO_FLOW = "keras-iris-scoring";
const REPORT_EVERY_MS = 2000;

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number, got ${process.env[name]}`);
  return value;
}

/**
 * `npm start`: Kafka (embedded unless KAFKA_BROKERS is set), Node-RED with the Keras
 * example flow deployed, a demo feed into iris-in and a live report of what arrives
 * scored on iris-scored. Ctrl-C stops everything.
 */
export async function main(): Promise<number> {
  const port = setting("NODE_RED_PORT", 1880);
  const rate = setting("DEMO_RATE", 200);
  const duration = setting("DEMO_DURATION_S", 0);
  await setup();

  const stoppers: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      console.log("\n[demo] stopping");
      for (const stop of stoppers.reverse()) await stop().catch((error: Error) => console.error(`[demo] ${error.message}`));
    })());
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stopAll().then(resolve));
    if (duration > 0) setTimeout(() => void stopAll().then(resolve), duration * 1000).unref();
  });

  try {
    const brokers = process.env.KAFKA_BROKERS ?? (await startKafka(setting("KAFKA_PORT", 9092), stoppers));
    const kafka = new Kafka({ clientId: "demo", brokers: brokers.split(","), logLevel: logLevel.ERROR });
    await createTopics(kafka);

    const userDir = path.join(ROOT, ".node-red");
    const flowFile = path.join(userDir, "flows.json");
    const deployExample = !fs.existsSync(flowFile);
    step(deployExample ? `Node-RED: deploying the example flow "${DEMO_FLOW}"` : `Node-RED: keeping your flows in ${flowFile}`);
    const nodeRed = await startNodeRed({ userDir, port, flows: deployExample ? readExample(DEMO_FLOW, brokers) : undefined });
    stoppers.push(() => nodeRed.stop());
    printBanner(nodeRed, brokers, rate);

    const labels = new Map<string, string>();
    const feed = await startFeed(kafka, rate, labels);
    stoppers.push(feed);
    const monitor = await startMonitor(kafka, labels);
    stoppers.push(monitor);
  } catch (error) {
    await stopAll();
    throw error;
  }
  await stopped;
  return 0;
}

async function startKafka(port: number, stoppers: (() => Promise<void>)[]): Promise<string> {
  step(`Kafka: starting a broker on 127.0.0.1:${port} (data in .kafka/data)`);
  const kafka: EmbeddedKafka = await startEmbeddedKafka({ dataDir: path.join(KAFKA_HOME, "data"), port, controllerPort: port + 1 }).catch(
    (error: Error) => {
      throw new Error(`${error.message}\nIs port ${port} taken? Set KAFKA_PORT, or KAFKA_BROKERS to use a running cluster.`);
    },
  );
  stoppers.push(() => kafka.stop());
  return kafka.brokers;
}

async function createTopics(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // the demo's input has partitions to share; every topic an example uses exists before its flow starts
    const others = exampleTopics().filter((topic) => topic !== INPUT_TOPIC);
    await admin.createTopics({
      topics: [{ topic: INPUT_TOPIC, numPartitions: 3 }, ...others.map((topic) => ({ topic, numPartitions: 1 }))],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

function printBanner(nodeRed: NodeRedProcess, brokers: string, rate: number): void {
  console.log(
    [
      "",
      `  Node-RED editor:  ${nodeRed.url}   (log: ${path.relative(ROOT, nodeRed.logFile)})`,
      `  Kafka brokers:    ${brokers}`,
      `  Demo feed:        ${rate} records/s of iris measurements into "${INPUT_TOPIC}"`,
      `  Scored records:   "${OUTPUT_TOPIC}" (the Debug sidebar shows a sample)`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

/** Produces held-out iris rows round and round at a steady rate, keyed by sequence number. */
async function startFeed(kafka: Kafka, rate: number, labels: Map<string, string>): Promise<() => Promise<void>> {
  const producer: Producer = kafka.producer();
  await producer.connect();
  const tickMs = 100;
  let sequence = 0;
  let sending = false;
  const timer = setInterval(() => {
    if (sending || rate === 0) return; // the broker is slower than the feed: skip a tick rather than queue
    sending = true;
    const count = Math.max(1, Math.round((rate * tickMs) / 1000));
    const messages = Array.from({ length: count }, () => {
      const row = HOLDOUT_ROWS[sequence % HOLDOUT_ROWS.length];
      const key = String(sequence++);
      labels.set(key, row.label);
      if (labels.size > 100_000) labels.delete(labels.keys().next().value as string);
      return { key, value: JSON.stringify({ features: row.features }) };
    });
    producer
      .send({ topic: INPUT_TOPIC, messages })
      .catch((error: Error) => console.error(`[demo] feed: ${error.message}`))
      .finally(() => (sending = false));
  }, tickMs);
  return async () => {
    clearInterval(timer);
    await producer.disconnect();
  };
}

/** Reads the scored topic and prints the rate and a few records every two seconds. */
async function startMonitor(kafka: Kafka, labels: Map<string, string>): Promise<() => Promise<void>> {
  const consumer: Consumer = kafka.consumer({ groupId: `demo-monitor-${process.pid}` });
  await consumer.connect();
  await consumer.subscribe({ topic: OUTPUT_TOPIC, fromBeginning: false });
  let count = 0;
  let total = 0;
  let latest: string[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      count++;
      total++;
      const key = String(message.key);
      const prediction = JSON.parse(String(message.value)) as { label?: string; score?: number };
      const actual = labels.get(key);
      latest.push(`#${key} ${prediction.label} (${prediction.score?.toFixed(3)})${actual ? `, actual ${actual}` : ""}`);
      if (latest.length > 3) latest = latest.slice(-3);
    },
  });
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const perSecond = Math.round((count * 1000) / (now - last));
    console.log(`[demo] scored ${perSecond} records/s (total ${total})${latest.length ? `: ${latest.join("; ")}` : ""}`);
    count = 0;
    last = now;
    latest = [];
  }, REPORT_EVERY_MS);
  return async () => {
    clearInterval(timer);
    await consumer.disconnect();
  };
}
