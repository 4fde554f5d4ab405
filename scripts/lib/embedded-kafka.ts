import { spawn, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { KAFKA_LIBS } from "./project";

/**
 * A single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on
 * loopback, run from the jars that setup fetched. The JVM runs under a small shell
 * that kills it when our stdin closes, so it cannot outlive the Node process that
 * started it, even one killed with SIGKILL.
 */
export interface EmbeddedKafka {
  brokers: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedKafkaOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  controllerPort: number;
  startTimeoutMs?: number;
}

// a background job's stdin is /dev/null in sh, so the reader takes our pipe through fd 3
const WATCHDOG = 'exec 3<&0; java "$@" & java=$!; (cat <&3 >/dev/null; kill $java 2>/dev/null) & wait $java';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function serverProperties(dataDir: string, port: number, controllerPort: number): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${path.join(dataDir, "logs")}`,
    "num.partitions=1",
    "auto.create.topics.enable=true",
    // one broker: internal topics cannot have more replicas (else "coordinator not available")
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=4",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

function java(args: string[], logFile: string): ChildProcess {
  const log = fs.openSync(logFile, "a");
  const child = spawn("sh", ["-c", WATCHDOG, "kafka", "-Xms256m", "-Xmx512m", "-cp", path.join(KAFKA_LIBS, "*"), ...args], {
    stdio: ["pipe", log, log],
    detached: true, // its own process group, so that stop() can reach the JVM too
  });
  fs.closeSync(log);
  return child;
}

async function runToEnd(args: string[], logFile: string): Promise<void> {
  const child = java(args, logFile);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  child.stdin?.end(); // lets the watchdog's reader go too
  if (code !== 0) throw new Error(`kafka ${args.join(" ")} failed; see ${logFile}`);
}

export async function startEmbeddedKafka(options: EmbeddedKafkaOptions): Promise<EmbeddedKafka> {
  const port = options.port || (await freePort());
  const controllerPort = options.controllerPort || (await freePort());
  const { dataDir } = options;
  fs.mkdirSync(dataDir, { recursive: true });
  const properties = path.join(dataDir, "server.properties");
  const logFile = path.join(dataDir, "broker.log");
  fs.writeFileSync(properties, serverProperties(dataDir, port, controllerPort));
  if (!fs.existsSync(path.join(dataDir, "logs", "meta.properties"))) {
    const clusterId = crypto.randomBytes(16).toString("base64url");
    await runToEnd(["kafka.tools.StorageTool", "format", `--cluster-id=${clusterId}`, "--config", properties], logFile);
  }

  const broker = java(["kafka.Kafka", properties], logFile);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    broker.on("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const brokers = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    broker.stdin?.end(); // the watchdog sends the JVM SIGTERM: a clean shutdown
    const timer = setTimeout(() => killGroup(broker, "SIGKILL"), 15_000);
    await exit;
    clearTimeout(timer);
  };
  try {
    await waitUntilReady(brokers, () => exited, options.startTimeoutMs ?? 90_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- last lines of ${logFile} ---\n${tail(logFile, 30)}`);
  }
  return { brokers, dataDir, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function waitUntilReady(brokers: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const admin = new Kafka({ clientId: "embedded-kafka-probe", brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exited()) throw new Error("the Kafka broker exited while starting");
      try {
        await admin.connect();
        await admin.describeCluster();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    throw new Error(`the Kafka broker did not answer on ${brokers} within ${timeoutMs} ms`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
