import { Partitioners, type CompressionTypes, type Message, type PartitionMetadata, type Producer, type RecordMetadata, type TopicMessages } from "kafkajs";
import type { Delivery, EngineProducer, OutgoingRecord, ProducerEvents, SendOptions } from "../../engine";
import { ProduceRefusedError, ProducerStoppedError, refusalReason } from "../../produce-errors";
import { RetryBackoff } from "../../retry-backoff";
import { permanentRefusal } from "./refusals";

export interface ProduceOptions {
  /** -1 = all in-sync replicas, 1 = leader only, 0 = no acknowledgement. */
  acks: -1 | 0 | 1;
  compression?: CompressionTypes;
}

interface Pending {
  topic: string;
  message: Message;
  retry: boolean;
  resolve: (delivery: Delivery | undefined) => void;
  reject: (error: Error) => void;
}

/**
 * Messages per produce request at most: kafkajs groups a request's messages in time
 * that grows with the square of their number (1,000 took 3.5 ms, 50,000 took 3.5 s).
 */
const MAX_REQUEST_MESSAGES = 1000;

/** The partitions of a topic, for choosing each message's partition before it is sent. */
export type PartitionLookup = (topic: string) => Promise<PartitionMetadata[]>;

/**
 * Produces messages in batches: while one request is on its way to the broker, new
 * messages gather and leave together in the next one. Each message's promise settles
 * when the broker has acknowledged the request that carried it. Given a partition
 * lookup, it picks each message's partition itself (as kafkajs would), so that it can
 * tell each message its offset: baseOffset of its partition plus its place there.
 *
 * A request the broker refuses for good (a record too large, a topic missing or not
 * allowed) is sent again in halves until the refused record stands alone: only it fails,
 * with a ProduceRefusedError; the others are written. (Partitions of the request that
 * the broker had accepted are written again: duplicates, as at-least-once allows.)
 */
export class BatchingProducer implements EngineProducer {
  private queue: Pending[] = [];
  private sending = false;
  private stopped = false;
  private readonly backoff: RetryBackoff;

  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly options: ProduceOptions,
    private readonly partitionsOf?: PartitionLookup,
    events: ProducerEvents = {},
  ) {
    this.backoff = new RetryBackoff(events);
  }

  /** Resolves, once acknowledged, with the message's place when there is a partition lookup. */
  send(topic: string, message: OutgoingRecord, options: SendOptions = {}): Promise<Delivery | undefined> {
    if (this.stopped) return Promise.reject(new ProducerStoppedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, message, retry: Boolean(options.retry), resolve, reject });
      if (this.sending) return;
      this.sending = true;
      // Node-RED delivers each msg of a burst (a fetched batch, a scored batch) in its own
      // setImmediate: starting on the next one lets the whole burst leave in one request
      setImmediate(() => void this.drain());
    });
  }

  /** Rejects what is still waiting or being retried with a ProducerStoppedError; later sends reject at once. */
  stop(): void {
    this.stopped = true;
    this.backoff.cancel();
    rejectAll(this.queue.splice(0), new ProducerStoppedError());
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const { retry, error } = await this.write(this.queue.splice(0, MAX_REQUEST_MESSAGES));
      if (!error) this.backoff.succeeded();
      if (!error || retry.length === 0) continue;
      // kept in front, so that what follows them is written after them, in order
      this.queue.unshift(...retry);
      await this.backoff.wait(error);
    }
    rejectAll(this.queue.splice(0), new ProducerStoppedError());
    this.sending = false;
  }

  /**
   * Sends a batch and settles each message's promise, except those to send again after a
   * failure that may pass: they are returned, with the failure.
   */
  private async write(batch: Pending[]): Promise<{ retry: Pending[]; error?: Error }> {
    try {
      if (this.partitionsOf) await this.choosePartitions(batch, this.partitionsOf);
      const producer = await this.producer();
      const written = await producer.sendBatch({ topicMessages: groupByTopic(batch), acks: this.options.acks, compression: this.options.compression });
      const deliveries = this.partitionsOf ? placeEach(batch, written) : [];
      batch.forEach((item, index) => item.resolve(deliveries[index]));
      return { retry: [] };
    } catch (error) {
      const code = permanentRefusal(error);
      if (code === undefined) {
        rejectAll(batch.filter((item) => !item.retry), error as Error);
        return { retry: batch.filter((item) => item.retry), error: error as Error };
      }
      if (batch.length === 1) {
        batch[0].reject(new ProduceRefusedError(batch[0].topic, code, refusalReason(code)));
        return { retry: [] };
      }
      const half = Math.ceil(batch.length / 2);
      const first = await this.write(batch.slice(0, half));
      // the second half waits behind what the first half has to retry, in order
      if (first.error) return { retry: [...first.retry, ...batch.slice(half)], error: first.error };
      return this.write(batch.slice(half));
    }
  }

  private async choosePartitions(batch: Pending[], partitionsOf: PartitionLookup): Promise<void> {
    for (const item of batch) {
      if (item.message.partition !== undefined) continue;
      const partitionMetadata = await partitionsOf(item.topic);
      item.message.partition = this.partitioner({ topic: item.topic, partitionMetadata, message: item.message });
    }
  }
}

/**
 * Offsets: messages of one partition are written in order from that partition's base
 * offset. Without an acknowledgement (acks none) the broker tells none: "-1".
 */
function placeEach(batch: Pending[], written: RecordMetadata[]): Delivery[] {
  const next = new Map<string, bigint>();
  for (const record of written) {
    if (record.baseOffset !== undefined) next.set(`${record.partition}/${record.topicName}`, BigInt(record.baseOffset));
  }
  return batch.map(({ topic, message }) => {
    const key = `${message.partition}/${topic}`;
    const offset = next.get(key);
    if (offset !== undefined) next.set(key, offset + 1n);
    return { topic, partition: message.partition as number, offset: offset === undefined ? "-1" : offset.toString() };
  });
}

function rejectAll(items: Pending[], error: Error): void {
  for (const item of items) item.reject(error);
}

function groupByTopic(batch: Pending[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of batch) {
    const messages = byTopic.get(topic);
    if (messages) messages.push(message);
    else byTopic.set(topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
