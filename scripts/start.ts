import * as fs from "node:fs";
import * as path from "node:path";
import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs";
import { HOLDOUT_ROWS } from "./lib/demo-model";
import { scriptKafkaLog } from "./lib/kafka-log";
import { startEmbeddedKafka } from "./lib/embedded-kafka";
import { startSchemaRegistry } from "./lib/embedded-schema-registry";
import { exampleTopics, readExample } from "./lib/example-flows";
import { startNodeRed, type NodeRedProcess } from "./lib/node-red-process";
import { step } from "./lib/project";
import { ServiceGroup, describeExit, lastWords, type Death } from "./lib/service-group";
import type { StartLock } from "./lib/start-lock";
import { setup } from "./setup";

const INPUT_TOPIC = "iris-in";
const OUTPUT_TOPIC = "iris-scored";
const DEMO_FLOW = "keras-iris-scoring";
/** Deployed beside the demo: Avro records through the registry npm start runs. */
const AVRO_FLOW = "avro-schema-registry-scoring";
const REPORT_EVERY_MS = 2000;

interface DemoSettings {
  /** Where the broker data, the Node-RED user directory and their logs live (DEMO_DIR). */
  folder: string;
  nodeRedPort: number;
  /** The embedded broker's port, absent when KAFKA_BROKERS names a cluster to use. */
  kafkaPort?: number;
  brokers: string;
  /** The embedded registry's port, absent when SCHEMA_REGISTRY_URL names a registry to use. */
  registryPort?: number;
  /** The Confluent-compatible API's base URL. */
  registryUrl: string;
  rate: number;
  /** Seconds until it stops by itself; 0: until Ctrl-C. */
  duration: number;
}

/** A setting that is wrong: said in one line, without a stack trace. */
class SettingError extends Error {}

function setting(name: string, fallback: number, what = "a number", valid = (value: number): boolean => value >= 0): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || !valid(value)) throw new SettingError(`${name} must be ${what}, got "${process.env[name]}"`);
  return value;
}

function portSetting(name: string, fallback: number, highest = 65535): number {
  return setting(name, fallback, `a port number (1-${highest})`, (value) => Number.isInteger(value) && value >= 1 && value <= highest);
}

function readSettings(folder: string): DemoSettings {
  const kafkaPort = process.env.KAFKA_BROKERS ? undefined : portSetting("KAFKA_PORT", 9092, 65534); // the controller takes the next port
  const registryPort = process.env.SCHEMA_REGISTRY_URL ? undefined : portSetting("SCHEMA_REGISTRY_PORT", 8081);
  return {
    folder,
    nodeRedPort: portSetting("NODE_RED_PORT", 1880),
    kafkaPort,
    brokers: process.env.KAFKA_BROKERS ?? `127.0.0.1:${kafkaPort}`,
    registryPort,
    registryUrl: process.env.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
    rate: setting("DEMO_RATE", 200),
    duration: setting("DEMO_DURATION_S", 0),
  };
}

/**
 * `npm start`: Kafka (embedded unless KAFKA_BROKERS is set), Node-RED with the Keras
 * example flow deployed, a demo feed into iris-in and a live report of what arrives
 * scored on iris-scored. Ctrl-C stops everything; so does the broker or Node-RED
 * ending by itself, with a non-zero exit and the last lines of its log. bootstrap.js
 * holds the folder's lock (start-lock.js) for the life of this process.
 */
export async function main(_args: string[], lock: StartLock): Promise<number> {
  let settings: DemoSettings;
  try {
    settings = readSettings(lock.folder);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    console.error(`[demo] ${error.message}`);
    return 2;
  }
  const { nodeRedPort, kafkaPort, brokers, duration } = settings;
  lock.record({ url: `http://127.0.0.1:${nodeRedPort}`, brokers, nodeRedPort, kafkaPort });
  await setup();

  const services = new ServiceGroup();
  const stop = (): Promise<void> => {
    if (!services.stopping) console.log(services.death ? "[demo] stopping" : "\n[demo] stopping"); // a Ctrl-C leaves the cursor after ^C
    return services.stopAll();
  };
  let stopAsked = false;
  const asked = new Promise<"asked">((resolve) => {
    const ask = (): void => {
      stopAsked = true;
      resolve("asked");
      void stop(); // at once, also while starting: what starts after this is stopped as it comes
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, ask);
    if (duration > 0) setTimeout(ask, duration * 1000).unref();
  });

  try {
    await startDemo(settings, services);
  } catch (error) {
    await stop();
    if (services.death) return reportDeath(services.death);
    if (stopAsked) return 0;
    throw error;
  }
  const outcome = await Promise.race([asked, services.died]);
  if (outcome === "asked") {
    await stop();
    return 0;
  }
  console.error(`\n${headline(outcome)}`); // before stopping, which takes a few seconds
  await stop();
  console.error(`[demo] ${lastWords(outcome)}`);
  return 1;
}

function headline(death: Death): string {
  return `[demo] ${death.name} exited by itself (${describeExit(death.code)}): npm start stops too`;
}

function reportDeath(death: Death): number {
  console.error(`${headline(death)}\n[demo] ${lastWords(death)}`);
  return 1;
}

async function startDemo(settings: DemoSettings, services: ServiceGroup): Promise<void> {
  const { folder, brokers } = settings;
  const brokerLog = settings.kafkaPort === undefined ? undefined : await startKafka(settings.kafkaPort, path.join(folder, ".kafka", "data"), services);
  const kafka = new Kafka({ clientId: "demo", brokers: brokers.split(","), logLevel: logLevel.ERROR, logCreator: scriptKafkaLog("[demo]", () => services.stopping) });
  await createTopics(kafka);
  if (settings.registryPort !== undefined) await startRegistry(settings.registryPort, path.join(folder, ".schema-registry", "registry.log"), services);

  const userDir = path.join(folder, ".node-red");
  const flowFile = path.join(userDir, "flows.json");
  const deployExample = !fs.existsSync(flowFile);
  step(deployExample ? `Node-RED: deploying the example flows "${DEMO_FLOW}" and "${AVRO_FLOW}"` : `Node-RED: keeping your flows in ${flowFile}`);
  const flows = deployExample ? [...readExample(DEMO_FLOW, brokers), ...readExample(AVRO_FLOW, brokers, settings.registryUrl)] : undefined;
  const nodeRed = await startNodeRed({ userDir, port: settings.nodeRedPort, flows });
  services.watch("Node-RED", nodeRed);
  printBanner(nodeRed, settings, brokerLog);

  const labels = new Map<string, string>();
  services.add(await startFeed(kafka, settings.rate, labels));
  services.add(await startMonitor(kafka, labels));
}

/** Starts the embedded broker; returns its log file. */
async function startKafka(port: number, dataDir: string, services: ServiceGroup): Promise<string> {
  step(`Kafka: starting a broker on 127.0.0.1:${port} (data in ${dataDir})`);
  const kafka = await startEmbeddedKafka({ dataDir, port, controllerPort: port + 1 }).catch((error: Error) => {
    throw new Error(`${error.message}\nIs port ${port} taken? Set KAFKA_PORT, or KAFKA_BROKERS to use a running cluster.`);
  });
  services.watch("the Kafka broker", kafka);
  return kafka.logFile;
}

/** Starts the embedded Schema Registry (Apicurio, schemas in memory) for the Avro example. */
async function startRegistry(port: number, logFile: string, services: ServiceGroup): Promise<void> {
  step(`Schema Registry: starting Apicurio Registry on 127.0.0.1:${port} (schemas in memory; log ${logFile})`);
  const registry = await startSchemaRegistry({ port, logFile }).catch((error: Error) => {
    throw new Error(`${error.message}\nIs port ${port} taken? Set SCHEMA_REGISTRY_PORT, or SCHEMA_REGISTRY_URL to use a running registry.`);
  });
  services.watch("the Schema Registry", registry);
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

function printBanner(nodeRed: NodeRedProcess, settings: DemoSettings, brokerLog: string | undefined): void {
  console.log(
    [
      "",
      `  Node-RED editor:  ${nodeRed.url}   (log: ${nodeRed.logFile})`,
      `  Kafka brokers:    ${settings.brokers}${brokerLog ? `   (log: ${brokerLog})` : ""}`,
      `  Schema Registry:  ${settings.registryUrl}   (the Avro example: "iris-avro-in" -> "iris-avro-scored")`,
      `  Demo feed:        ${settings.rate} records/s of iris measurements into "${INPUT_TOPIC}"`,
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
