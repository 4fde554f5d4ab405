import "./codecs";
import type { SecurityOptions } from "./security";
import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type LogEntry, type PartitionMetadata, type Producer } from "kafkajs";

/**
 * The only module that constructs kafkajs clients, so the client library can be
 * swapped in one place.
 */
export interface BrokerSettings {
  brokers: string[];
  clientId: string;
  /** TLS and SASL; a plain connection without. */
  security?: SecurityOptions;
}

export type LogLevel = "warn" | "info" | "debug";
export type Logger = (level: LogLevel, text: string) => void;

export function parseBrokerList(list: string): string[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * What a broker answers for a moment while it starts, creates a topic or moves a
 * partition; kafkajs retries and goes on, so these are logged as info, not warnings.
 */
const TRANSIENT = /coordinator is (not available|loading)|does not host this topic-partition|leadership election|not the leader for that topic-partition/;

/** Whether a kafkajs log line tells of a broker's passing answer, which kafkajs retries: no news for a user. */
export function isTransientBrokerAnswer(text: string): boolean {
  return TRANSIENT.test(text);
}

function toLogger(log: Logger, problem: (error: string) => void): () => (entry: LogEntry) => void {
  return () =>
    ({ level, log: entry }) => {
      const text = `${entry.message}${entry.error ? `: ${entry.error}` : ""}`;
      const transient = isTransientBrokerAnswer(text);
      // kafkajs logs at ERROR what it then retries (a refused connection, a certificate
      // that fails verification): a node says so while it connects; failures that stick
      // reach the nodes as errors. A broker's passing answers are not worth a word.
      if (level === logLevel.ERROR && !transient) problem(entry.error ? String(entry.error) : rootCause(entry.message));
      if (level <= logLevel.WARN && !transient) log("warn", text);
      else if (level <= logLevel.INFO) log("info", text);
      else log("debug", text);
    };
}

/** kafkajs prefixes causes ("Failed to connect to seed broker, ...: Connection error: <cause>"): the cause is last. */
function rootCause(message: string): string {
  const parts = message.split(": ");
  return parts[parts.length - 1] || message;
}

export type ProducerKind = "plain" | "idempotent";

export type ConnectionState = "connecting" | "connected" | "disconnected";

/**
 * One broker connection shared by every node that uses a kafka-broker config: a
 * single producer, connected on first use and disconnected when its last user leaves,
 * and consumers made on the same client.
 */
export class KafkaConnection {
  readonly kafka: Kafka;
  /** The shared producers: a plain one and an idempotent one, each made when first asked for. */
  private readonly connectedProducers = new Map<ProducerKind, Promise<Producer>>();
  /** The shared producer's last known state; undefined until a node first produces. */
  producerState: ConnectionState | undefined;
  private producerUsers = 0;
  private readonly partitions = new Map<string, Promise<PartitionMetadata[]>>();
  private readonly problemListeners = new Set<(error: string) => void>();

  constructor(
    readonly settings: BrokerSettings,
    private readonly log: Logger,
    private readonly notify: (state: ConnectionState) => void = () => undefined,
  ) {
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      ...settings.security,
      logLevel: logLevel.WARN,
      logCreator: toLogger(log, (error) => this.problemListeners.forEach((listener) => listener(error))),
      retry: { initialRetryTime: 300, retries: 8 },
    });
  }

  /**
   * Calls back with each error the client retries (while it connects, or reconnects),
   * so that a node can say why it is still connecting. Returns the unsubscribe function.
   */
  onRetriedError(listener: (error: string) => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  private setProducerState(state: ConnectionState): void {
    this.producerState = state;
    this.notify(state);
  }

  /** Counts a node that produces; pair with releaseProducer() when it closes. */
  holdProducer(): void {
    this.producerUsers++;
  }

  /**
   * A shared producer, connected on first use and again after a failed connect. The
   * idempotent one has the broker drop duplicates of its own retries (it writes with
   * acks=all and one request in flight per broker, as idempotence requires).
   */
  producer(kind: ProducerKind = "plain"): Promise<Producer> {
    let connected = this.connectedProducers.get(kind);
    if (!connected) {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
        ...(kind === "idempotent" ? { idempotent: true, maxInFlightRequests: 1 } : {}),
      });
      producer.on(producer.events.CONNECT, () => this.setProducerState("connected"));
      producer.on(producer.events.DISCONNECT, () => this.setProducerState("disconnected"));
      this.setProducerState("connecting");
      connected = producer.connect().then(
        () => producer,
        (error: Error) => {
          this.connectedProducers.delete(kind);
          throw error;
        },
      );
      this.connectedProducers.set(kind, connected);
    }
    return connected;
  }

  async releaseProducer(): Promise<void> {
    this.producerUsers = Math.max(0, this.producerUsers - 1);
    if (this.producerUsers === 0) await this.close();
  }

  /** Disconnects the shared producers that are connected (a dead-letter write may connect one too). */
  async close(): Promise<void> {
    const producers = [...this.connectedProducers.values()];
    this.connectedProducers.clear();
    await Promise.all(producers.map((producer) => producer.then((connected) => connected.disconnect()).catch((error: Error) => this.log("warn", error.message))));
  }

  /** A topic's partitions, read once per topic (a new topic is created by the first write to it). */
  partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    let partitions = this.partitions.get(topic);
    if (!partitions) {
      partitions = this.readPartitions(topic);
      this.partitions.set(topic, partitions);
      partitions.catch(() => this.partitions.delete(topic));
    }
    return partitions;
  }

  private async readPartitions(topic: string): Promise<PartitionMetadata[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0].partitions;
    } finally {
      await admin.disconnect();
    }
  }

  createConsumer(groupId: string): Consumer {
    // how long the broker holds a fetch while there is nothing new (kafkajs's default is
    // 5 s): short, so that a stop or a rebalance does not wait for an idle fetch
    return this.kafka.consumer({ groupId, allowAutoTopicCreation: true, maxWaitTimeInMs: 200 });
  }

  createAdmin(): Admin {
    return this.kafka.admin();
  }
}
