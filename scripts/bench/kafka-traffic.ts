import { Kafka, logLevel, type Admin, type Message, type Producer } from "kafkajs";
import { scriptKafkaLog } from "../lib/kafka-log";
import { HOLDOUT_ROWS } from "../lib/demo-model";

/** Partitions of every benchmark topic. */
export const PARTITIONS = 3;
/** Carries Date.now() at send through the flow (kafka-out writes msg.headers back out). */
const SENT_AT_HEADER = "bench-sent-at";
/** How often the output topic's end offsets are read: the timing's resolution. */
const POLL_MS = 50;
const PRELOAD_CHUNK = 10_000;
/** How often the fixed-rate feed sends what has come due. */
const FEED_TICK_MS = 5;

/** Records per second is records * 1000 / ms; ms is 0 when everything arrived between two polls. */
export interface OutputTiming {
  records: number;
  ms: number;
}

export interface LatencySample {
  /** Date.now() when the record was sent. */
  sentAt: number;
  ms: number;
}

const values = HOLDOUT_ROWS.map(({ features }) => JSON.stringify({ features }));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The benchmark's own Kafka clients: they make fresh topics, fill or feed the input
 * topic of a phase, and time what arrives on its output topic.
 */
export class KafkaTraffic {
  private readonly created: string[] = [];
  private topicNumber = 0;

  private constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: Producer,
  ) {}

  static async connect(brokers: string[]): Promise<KafkaTraffic> {
    const kafka = new Kafka({ clientId: "bench-traffic", brokers, logLevel: logLevel.ERROR, logCreator: scriptKafkaLog("[bench]") });
    const admin = kafka.admin();
    const producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    return new KafkaTraffic(kafka, admin, producer);
  }

  /** A new name each call, so that no phase sees another's records or committed offsets. */
  uniqueName(prefix: string): string {
    return `bench-${prefix}-${process.pid}-${++this.topicNumber}`;
  }

  /**
   * An input and an output topic. The output topic is stamped by the broker
   * (LogAppendTime): a record's timestamp is when it was written there.
   */
  async freshTopics(phase: string): Promise<{ input: string; output: string }> {
    const input = this.uniqueName(`${phase}-in`);
    const output = this.uniqueName(`${phase}-out`);
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: input, numPartitions: PARTITIONS },
        { topic: output, numPartitions: PARTITIONS, configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }] },
      ],
    });
    this.created.push(input, output);
    return { input, output };
  }

  /** Writes `count` held-out rows as `{"features": [...]}` (or as `encoded` gives them, in turn) before the phase starts reading. */
  async preload(topic: string, count: number, encoded: (string | Buffer)[] = values): Promise<void> {
    for (let start = 0; start < count; start += PRELOAD_CHUNK) {
      const messages: Message[] = [];
      for (let index = start; index < Math.min(count, start + PRELOAD_CHUNK); index++) messages.push({ value: encoded[index % encoded.length] });
      await this.producer.send({ topic, messages });
    }
  }

  /**
   * Sends `perSecond` records a second for `seconds`. Like a Kafka producer with its
   * default linger (linger.ms 5 since Kafka 4.0, KIP-1030), it sends what has come due every FEED_TICK_MS
   * in one request; each record is stamped with the time it came due, so its wait for
   * the tick counts in its latency. (One request per record, 1,000 a second, took the
   * broker more CPU than the two cores had to spare.)
   */
  async feedAtRate(topic: string, perSecond: number, seconds: number): Promise<void> {
    const total = perSecond * seconds;
    const sends: Promise<unknown>[] = [];
    let failure: Error | undefined;
    let sent = 0;
    const startedAt = Date.now();
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000));
        if (due > sent) {
          const messages: Message[] = [];
          for (; sent < due; sent++) {
            const dueAt = startedAt + Math.floor((sent * 1000) / perSecond);
            messages.push({ value: values[sent % values.length], headers: { [SENT_AT_HEADER]: String(dueAt) } });
          }
          sends.push(this.producer.send({ topic, messages }).catch((error: Error) => (failure ??= error)));
        }
        if (sent >= total) {
          clearInterval(tick);
          resolve();
        }
      }, FEED_TICK_MS);
    });
    await Promise.all(sends);
    if (failure) throw failure;
  }

  /**
   * Waits until `count` records are on `topic`; the records that came after the first
   * poll that saw output, and the time from that poll to the one that saw all of them.
   */
  async awaitOutput(topic: string, count: number, failure: () => string | undefined, stallMs = 60_000): Promise<OutputTiming> {
    let first: { at: number; records: number } | undefined;
    let seen = 0;
    let progressAt = performance.now();
    for (;;) {
      const failed = failure();
      if (failed) throw new Error(`a record failed: ${failed}`);
      const records = await this.recordsOn(topic);
      const now = performance.now();
      if (records > seen) {
        seen = records;
        progressAt = now;
      }
      if (records > 0) first ??= { at: now, records };
      if (first && records >= count) return { records: records - first.records, ms: now - first.at };
      if (now - progressAt > stallMs) throw new Error(`only ${seen} of ${count} records reached ${topic}, none for ${stallMs / 1000} s`);
      await sleep(POLL_MS);
    }
  }

  /**
   * Reads the `count` records on `topic` (as a read_committed reader): when each was
   * sent, and its latency, to its broker append time ("append"), or to when this reader
   * got it ("arrival": for results that become visible only when their transaction
   * commits). `joined` resolves once the reader has its partitions: an arrival reader
   * must be there before the feed starts.
   */
  readLatencies(topic: string, count: number, measuredTo: "append" | "arrival"): { joined: Promise<void>; samples: Promise<LatencySample[]> } {
    const consumer = this.kafka.consumer({ groupId: this.uniqueName("latency-reader"), maxWaitTimeInMs: 20 });
    const latencies: LatencySample[] = [];
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    const samples = (async () => {
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachBatch: async ({ batch }) => {
                const now = Date.now();
                for (const message of batch.messages) {
                  const sentAt = Number(String(message.headers?.[SENT_AT_HEADER]));
                  latencies.push({ sentAt, ms: (measuredTo === "arrival" ? now : Number(message.timestamp)) - sentAt });
                }
                if (latencies.length >= count) resolve();
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      return latencies;
    })();
    return { joined, samples };
  }

  /** Disconnects; deletes the topics it made when they are on a cluster that outlives the benchmark. */
  async close(deleteTopics: boolean): Promise<void> {
    try {
      if (deleteTopics && this.created.length > 0) await this.admin.deleteTopics({ topics: this.created });
    } finally {
      await Promise.all([this.admin.disconnect(), this.producer.disconnect()]);
    }
  }

  private async recordsOn(topic: string): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0);
  }
}
