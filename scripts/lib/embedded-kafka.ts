import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { lastLines, openProcessLog, type ProcessLog } from "./process-log";
import { KAFKA_LIBS } from "./project";
import { spawnTied, type TiedProcess } from "./tied-process";

/**
 * A single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on
 * loopback, run from the jars that setup fetched. The JVM is tied to this process:
 * it cannot outlive it.
 */
export interface EmbeddedKafka {
  brokers: string;
  /** The secured listeners' bootstrap addresses, when asked for. */
  secure?: { tls: string; saslTls: string };
  /** The OAUTHBEARER listener's bootstrap address, when asked for. */
  oauth?: string;
  /** The listener that advertises a proxy's address: where that proxy forwards to. */
  proxied?: string;
  dataDir: string;
  /** `broker.log` in the data dir, appended to across runs and rotated (process-log.ts). */
  logFile: string;
  /** What the broker has logged so far in this run. */
  log(): string;
  /** Resolves with the exit code when the broker ends, asked to or not. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Two more listeners, for testing client security: TLS requiring a client
 * certificate, and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) over TLS.
 */
export interface SecureListeners {
  /** PEM file with the broker's private key (PKCS#8, unencrypted) and its certificate chain. */
  keyAndCertificatePem: string;
  /** PEM file with the CA that signs client certificates. */
  trustedCaPem: string;
  /** Users known to every SASL mechanism. */
  users: { name: string; password: string }[];
}

const SCRAM_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"];

/**
 * A SASL_PLAINTEXT listener for OAUTHBEARER: tokens are JWTs checked by Kafka's own
 * validator (OAuthBearerValidatorCallbackHandler) against the issuer's JWKS.
 */
export interface OAuthListener {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** connections.max.reauth.ms: clients must log in again within it and before their token expires. */
  reauthenticateMs: number;
}

export interface EmbeddedKafkaOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  controllerPort: number;
  secure?: SecureListeners;
  oauth?: OAuthListener;
  /**
   * One more plaintext listener that gives clients `advertised` (a proxy in front of it,
   * such as Toxiproxy) as the broker's address: every connection of a client that
   * bootstraps there goes through the proxy. The other listeners are left alone.
   */
  proxied?: { advertised: string };
  startTimeoutMs?: number;
}

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

interface ListenerPorts {
  plain: number;
  controller: number;
  tls?: number;
  saslTls?: number;
  oauth?: number;
  proxied?: number;
}

function serverProperties(dataDir: string, ports: ListenerPorts, options: EmbeddedKafkaOptions): string {
  const { secure, oauth, proxied } = options;
  const controllerPort = ports.controller;
  const listeners = [`PLAINTEXT://127.0.0.1:${ports.plain}`];
  if (secure) listeners.push(`SSL://127.0.0.1:${ports.tls}`, `SASL_SSL://127.0.0.1:${ports.saslTls}`);
  if (oauth) listeners.push(`OAUTH://127.0.0.1:${ports.oauth}`);
  const advertised = [...listeners];
  if (proxied) {
    listeners.push(`PROXIED://127.0.0.1:${ports.proxied}`);
    advertised.push(`PROXIED://${proxied.advertised}`);
  }
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${[...listeners, `CONTROLLER://127.0.0.1:${controllerPort}`].join(",")}`,
    `advertised.listeners=${advertised.join(",")}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,OAUTH:SASL_PLAINTEXT,PROXIED:PLAINTEXT",
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
    ...(secure ? securityProperties(secure) : []),
    ...(oauth ? oauthProperties(oauth) : []),
    "",
  ].join("\n");
}

function securityProperties(secure: SecureListeners): string[] {
  const plainUsers = secure.users.map((user) => `user_${user.name}="${user.password}"`).join(" ");
  return [
    "ssl.keystore.type=PEM",
    `ssl.keystore.location=${secure.keyAndCertificatePem}`,
    "ssl.truststore.type=PEM",
    `ssl.truststore.location=${secure.trustedCaPem}`,
    "listener.name.ssl.ssl.client.auth=required",
    `sasl.enabled.mechanisms=PLAIN,${SCRAM_MECHANISMS.join(",")}`,
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    ...SCRAM_MECHANISMS.map(
      (mechanism) => `listener.name.sasl_ssl.${mechanism.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    ),
  ];
}

function oauthProperties(oauth: OAuthListener): string[] {
  const prefix = "listener.name.oauth";
  return [
    `${prefix}.sasl.enabled.mechanisms=OAUTHBEARER`,
    `${prefix}.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;`,
    `${prefix}.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler`,
    // Kafka 4.1's default validator checks a JWT's claims but not its signature; the broker one checks both against the JWKS
    "sasl.oauthbearer.jwt.validator.class=org.apache.kafka.common.security.oauthbearer.BrokerJwtValidator",
    // the validator reads these broker-wide, not per listener
    `sasl.oauthbearer.jwks.endpoint.url=${oauth.jwksUrl}`,
    `sasl.oauthbearer.expected.audience=${oauth.audience}`,
    `sasl.oauthbearer.expected.issuer=${oauth.issuer}`,
    `${prefix}.oauthbearer.connections.max.reauth.ms=${oauth.reauthenticateMs}`,
  ];
}

/** Kafka 4 fetches only the OAuth URLs a system property allows. */
function oauthJvmArguments(oauth: OAuthListener | undefined): string[] {
  return oauth ? [`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${oauth.jwksUrl}`] : [];
}

/** KRaft keeps SCRAM credentials in its metadata log: they are written when the storage is formatted. */
function scramArguments(secure: SecureListeners | undefined): string[] {
  if (!secure) return [];
  return secure.users.flatMap((user) => SCRAM_MECHANISMS.flatMap((mechanism) => ["--add-scram", `${mechanism}=[name=${user.name},password=${user.password}]`]));
}

/** A Kafka JVM logging into `log`; `logged` resolves once all its output is in the log. */
function java(args: string[], log: ProcessLog, jvmArguments: string[] = []): { jvm: TiedProcess; logged: Promise<void> } {
  // slf4j-simple prints no time by default: a crash log is easier to read with it
  const logTimes = ["-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSXXX"];
  const jvm = spawnTied("java", ["-Xms256m", "-Xmx512m", ...logTimes, ...jvmArguments, "-cp", path.join(KAFKA_LIBS, "*"), ...args], { stdout: "pipe", stderr: "pipe" });
  return { jvm, logged: log.follow([jvm.child.stdout, jvm.child.stderr]) };
}

async function runToEnd(args: string[], log: ProcessLog): Promise<void> {
  const { jvm, logged } = java(args, log);
  const code = await jvm.exited;
  await jvm.stop(0);
  await logged;
  if (code !== 0) throw new Error(`kafka ${args.join(" ")} failed; see ${log.file}`);
}

export async function startEmbeddedKafka(options: EmbeddedKafkaOptions): Promise<EmbeddedKafka> {
  const port = options.port || (await freePort());
  const controllerPort = options.controllerPort || (await freePort());
  const { dataDir } = options;
  fs.mkdirSync(dataDir, { recursive: true });
  const properties = path.join(dataDir, "server.properties");
  const log = openProcessLog(path.join(dataDir, "broker.log"), "Kafka broker");
  const ports: ListenerPorts = { plain: port, controller: controllerPort };
  if (options.secure) Object.assign(ports, { tls: await freePort(), saslTls: await freePort() });
  if (options.oauth) ports.oauth = await freePort();
  if (options.proxied) ports.proxied = await freePort();
  fs.writeFileSync(properties, serverProperties(dataDir, ports, options));
  if (!fs.existsSync(path.join(dataDir, "logs", "meta.properties"))) {
    const clusterId = crypto.randomBytes(16).toString("base64url");
    await runToEnd(["kafka.tools.StorageTool", "format", `--cluster-id=${clusterId}`, "--config", properties, ...scramArguments(options.secure)], log);
  }

  const { jvm: broker, logged } = java(["kafka.Kafka", properties], log, oauthJvmArguments(options.oauth));
  let exited = false;
  void broker.exited.then(() => (exited = true));
  const brokers = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await broker.stop(15_000); // a clean shutdown takes a few seconds
    await logged;
  };
  try {
    await waitUntilReady(brokers, () => exited, options.startTimeoutMs ?? 90_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- last lines of ${log.file} ---\n${lastLines(log.text(), 30).join("\n")}`);
  }
  const secure = options.secure && { tls: `127.0.0.1:${ports.tls}`, saslTls: `127.0.0.1:${ports.saslTls}` };
  const oauth = options.oauth && `127.0.0.1:${ports.oauth}`;
  const proxied = options.proxied && `127.0.0.1:${ports.proxied}`;
  return { brokers, secure, oauth, proxied, dataDir, logFile: log.file, log: log.text, exited: broker.exited, stop };
}

/** A broker on free ports with a fresh data dir that is deleted when it stops: for tests and benchmarks. */
export async function startScratchKafka(dataDir: string): Promise<EmbeddedKafka> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const kafka = await startEmbeddedKafka({ dataDir, port: 0, controllerPort: 0 });
  return {
    ...kafka,
    stop: async () => {
      await kafka.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
