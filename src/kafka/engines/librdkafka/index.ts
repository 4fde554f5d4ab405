import type { BrokerSettings, ConnectionState, ConsumerHandlers, ConsumerSettings, EngineConsumer, EngineProducer, KafkaEngine, Logger, ProducerEvents, ProducerSettings, TransactionalProducer } from "../../engine";
import { clientConfig, type NativeConfig } from "./config";
import { LibrdkafkaConsumer } from "./consumer";
import type { LibrdkafkaClient } from "./native";
import { NativeProblems } from "./problems";
import { LibrdkafkaProducer, SharedNativeProducer } from "./producer";
import { LibrdkafkaTransactionalProducer, TRANSACTION_TIMEOUT_MS } from "./transactional-producer";

/** How long librdkafka keeps trying to write a record before it reports it failed (its default is 5 minutes); kafkajs gives up after about as long. */
const MESSAGE_TIMEOUT_MS = 60_000;
const METADATA_TIMEOUT_MS = 10_000;

/**
 * The librdkafka engine: Confluent's native client. Consumers read large batches; one
 * native producer per distinct setting (acks, codec, idempotence), shared by the nodes.
 */
export class LibrdkafkaEngine implements KafkaEngine {
  readonly name = "librdkafka";
  readonly description: string;
  private readonly base: NativeConfig;
  private readonly producers = new Map<string, SharedNativeProducer>();
  private readonly problemListeners = new Set<(error: string) => void>();
  private readonly problems: NativeProblems;

  constructor(
    private readonly client: LibrdkafkaClient,
    settings: BrokerSettings,
    private readonly log: Logger,
    private readonly notify: (state: ConnectionState) => void,
  ) {
    this.description = `@confluentinc/kafka-javascript, librdkafka ${client.librdkafkaVersion}`;
    this.base = clientConfig(settings);
    this.problems = new NativeProblems(log, (reason) => this.problemListeners.forEach((listener) => listener(reason)));
  }

  consumer(settings: ConsumerSettings, handlers: ConsumerHandlers): EngineConsumer {
    return new LibrdkafkaConsumer(this.client, this.base, settings, handlers, this.problems);
  }

  producer(settings: ProducerSettings, events: ProducerEvents = {}): EngineProducer {
    return new LibrdkafkaProducer((alone) => this.shared(settings, alone), settings.deliveries, events);
  }

  transactional(transactionalId: string): TransactionalProducer {
    return new LibrdkafkaTransactionalProducer(
      this.client,
      { ...this.base, "transactional.id": transactionalId, "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS, "enable.idempotence": true, acks: -1 },
      this.problems,
    );
  }

  async connectProducer(settings: ProducerSettings): Promise<void> {
    await this.shared(settings).connected;
  }

  async partitionCount(topic: string): Promise<number> {
    const producer = await this.shared({ acks: -1, compression: "none", idempotent: false, deliveries: false }).connected;
    const metadata = await new Promise<{ topics: { name: string; partitions: unknown[] }[] }>((resolve, reject) =>
      producer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, (error, found) => (error ? reject(error) : resolve(found))),
    );
    return metadata.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0;
  }

  onRetriedError(listener: (error: string) => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  async closeProducers(): Promise<void> {
    const producers = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(producers.map((producer) => producer.close().catch((error: Error) => this.log("warn", error.message))));
  }

  /**
   * The native producer for these settings, made and connected on first use, and again
   * after a failed connect. `alone`: the one that puts each record in a batch of its own,
   * for records whose batch was refused as too large.
   */
  private shared(settings: ProducerSettings, alone = false): SharedNativeProducer {
    const key = `${settings.acks}/${settings.compression}/${settings.idempotent}/${alone}`;
    let producer = this.producers.get(key);
    if (!producer) {
      const made = new SharedNativeProducer(
        this.client,
        {
          ...this.base,
          // idempotence needs every in-sync replica to acknowledge
          acks: settings.idempotent ? -1 : settings.acks,
          "compression.type": settings.compression,
          "enable.idempotence": settings.idempotent,
          "message.timeout.ms": MESSAGE_TIMEOUT_MS,
          ...(alone ? { "batch.num.messages": 1 } : {}),
        },
        this.notify,
        this.problems,
      );
      made.connected.catch(() => {
        if (this.producers.get(key) === made) this.producers.delete(key);
      });
      this.producers.set(key, made);
      producer = made;
    }
    return producer;
  }
}
