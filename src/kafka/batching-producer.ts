import { Partitioners, type CompressionTypes, type Message, type PartitionMetadata, type Producer, type RecordMetadata, type TopicMessages } from "kafkajs";

export interface ProduceOptions {
  /** -1 = all in-sync replicas, 1 = leader only, 0 = no acknowledgement. */
  acks: -1 | 0 | 1;
  compression?: CompressionTypes;
}

/** Where the broker put a message. */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
}

interface Pending {
  topic: string;
  message: Message;
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
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private sending = false;

  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly options: ProduceOptions,
    private readonly partitionsOf?: PartitionLookup,
  ) {}

  /** Resolves, once acknowledged, with the message's place when there is a partition lookup. */
  send(topic: string, message: Message): Promise<Delivery | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      if (this.sending) return;
      this.sending = true;
      // Node-RED delivers each msg of a burst (a fetched batch, a scored batch) in its own
      // setImmediate: starting on the next one lets the whole burst leave in one request
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_REQUEST_MESSAGES);
      try {
        if (this.partitionsOf) await this.choosePartitions(batch, this.partitionsOf);
        const producer = await this.producer();
        const written = await producer.sendBatch({ topicMessages: groupByTopic(batch), acks: this.options.acks, compression: this.options.compression });
        const deliveries = this.partitionsOf ? placeEach(batch, written) : [];
        batch.forEach((item, index) => item.resolve(deliveries[index]));
      } catch (error) {
        for (const item of batch) item.reject(error as Error);
      }
    }
    this.sending = false;
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

function groupByTopic(batch: Pending[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of batch) {
    const messages = byTopic.get(topic);
    if (messages) messages.push(message);
    else byTopic.set(topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
