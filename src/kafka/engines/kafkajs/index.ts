import { Kafka, Partitioners, logLevel, type CompressionTypes, type PartitionMetadata, type Producer } from "kafkajs";
import type { BrokerSettings, Codec, ConnectionState, ConsumerHandlers, ConsumerSettings, EngineConsumer, EngineProducer, KafkaEngine, Logger, ProducerEvents, ProducerSettings } from "../../engine";
import { BatchingProducer } from "./batching-producer";
import { compressionProblem, kafkajsCompression } from "./codecs";
import { KafkajsConsumer } from "./consumer";
import { kafkajsLogCreator } from "./log";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the version, for the log
const KAFKAJS_VERSION = (require("kafkajs/package.json") as { version: string }).version;

/**
 * How long before its session ends a connection logs in again (KIP-368). kafkajs's
 * default, 10 s, makes a client whose OAuth tokens live less than that log in before
 * every request, and the broker refuses a second login within a second of the first.
 */
const REAUTHENTICATE_BEFORE_MS = 3000;

/**
 * kafkajs does not read the broker's answer to an OAUTHBEARER token: a refused token
 * shows only as the next request's ILLEGAL_SASL_STATE. Said as what it means.
 */
function explainRefusedToken(error: string): string {
  return /not valid given the current SASL state/.test(error)
    ? `the broker refused the OAuth token (${error}; kafkajs does not show the broker's reason: check the token's audience, issuer and scope, or use the librdkafka engine, which shows it)`
    : error;
}

/** kafkajs's compression type for a codec; throws when this install cannot write it (its package did not load). */
function compressionType(codec: Codec): CompressionTypes {
  const problem = compressionProblem(codec);
  if (problem) throw new Error(problem);
  return kafkajsCompression(codec);
}

/**
 * The kafkajs engine: pure JavaScript, installs anywhere. Two shared producers (a plain
 * one and an idempotent one), each connected on first use; consumers on the same client.
 */
export class KafkajsEngine implements KafkaEngine {
  readonly name = "kafkajs";
  readonly description = `kafkajs ${KAFKAJS_VERSION}`;
  private readonly kafka: Kafka;
  private readonly clients = new Map<boolean, Promise<Producer>>();
  private readonly partitions = new Map<string, Promise<PartitionMetadata[]>>();
  private readonly problemListeners = new Set<(error: string) => void>();
  private readonly oauth: boolean;

  constructor(
    settings: BrokerSettings,
    private readonly log: Logger,
    private readonly notify: (state: ConnectionState) => void,
  ) {
    this.oauth = Boolean(settings.security?.oauthBearer);
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      ssl: settings.security?.ssl,
      sasl: settings.security?.sasl,
      reauthenticationThreshold: REAUTHENTICATE_BEFORE_MS,
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(log, (error) => this.problemListeners.forEach((listener) => listener(this.explain(error)))),
      retry: { initialRetryTime: 300, retries: 8 },
    });
  }

  /** An error as the nodes show it; only a refused OAuth token is worded anew. */
  private explain(error: string): string {
    return this.oauth ? explainRefusedToken(error) : error;
  }

  consumer(settings: ConsumerSettings, handlers: ConsumerHandlers): EngineConsumer {
    return new KafkajsConsumer(this.kafka, settings, handlers, (error) => Object.assign(error, { message: this.explain(error.message) }));
  }

  producer(settings: ProducerSettings, events: ProducerEvents = {}): EngineProducer {
    const compression = compressionType(settings.compression);
    return new BatchingProducer(
      () => this.client(settings.idempotent),
      // idempotence needs every in-sync replica to acknowledge
      { acks: settings.idempotent ? -1 : settings.acks, compression },
      settings.deliveries ? (topic) => this.partitionsOf(topic) : undefined,
      events,
    );
  }

  async connectProducer(settings: ProducerSettings): Promise<void> {
    compressionType(settings.compression);
    await this.client(settings.idempotent);
  }

  async partitionCount(topic: string): Promise<number> {
    return (await this.partitionsOf(topic)).length;
  }

  onRetriedError(listener: (error: string) => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  async closeProducers(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.then((connected) => connected.disconnect()).catch((error: Error) => this.log("warn", error.message))));
  }

  /**
   * A shared producer, connected on first use and again after a failed connect. The
   * idempotent one has the broker drop duplicates of its own retries (it writes with
   * acks=all and one request in flight per broker, as idempotence requires).
   */
  private client(idempotent: boolean): Promise<Producer> {
    let connected = this.clients.get(idempotent);
    if (!connected) {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
        ...(idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {}),
      });
      producer.on(producer.events.CONNECT, () => this.notify("connected"));
      producer.on(producer.events.DISCONNECT, () => this.notify("disconnected"));
      this.notify("connecting");
      connected = producer.connect().then(
        () => producer,
        (error: Error) => {
          this.clients.delete(idempotent);
          throw error;
        },
      );
      this.clients.set(idempotent, connected);
    }
    return connected;
  }

  /** A topic's partitions, read once per topic (a new topic is created by the first write to it). */
  private partitionsOf(topic: string): Promise<PartitionMetadata[]> {
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
}
