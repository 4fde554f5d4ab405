import { loadLibrdkafka } from "../../src/kafka/engines/librdkafka/load";
import type { NativeMessage, NativeTopicPartition } from "../../src/kafka/engines/librdkafka/native";
import type { BarePipeOptions } from "./bare-client-pipe";

/** Records per consume call, and consumed batches whose records may be unacknowledged at once. */
const CONSUME_BATCH = 2000;
const BATCHES_IN_FLIGHT = 4;
const CONSUME_WAIT_MS = 200;

interface Batch {
  unacknowledged: number;
  acknowledged: Promise<void>;
  settle: (error?: Error) => void;
  /** Per partition, the offset to commit once the batch is acknowledged. */
  next: NativeTopicPartition[];
}

function batchOf(messages: NativeMessage[]): Batch {
  const next = new Map<string, NativeTopicPartition>();
  for (const { topic, partition, offset } of messages) next.set(`${partition}/${topic}`, { topic, partition, offset: offset + 1 });
  let settle: (error?: Error) => void = () => undefined;
  const acknowledged = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  return { unacknowledged: messages.length, acknowledged, settle, next: [...next.values()] };
}

/**
 * The same copy as the bare kafkajs pipe, written on Confluent's native client as its
 * users would for speed: large consume calls, several batches in flight, a delivery
 * report per record (acks all), and each batch's offsets committed, in order, once all
 * its records are acknowledged: at-least-once, as kafka-in -> kafka-out.
 */
export async function startBareLibrdkafkaPipe(options: BarePipeOptions): Promise<{ stop(): Promise<void> }> {
  const loaded = loadLibrdkafka();
  if ("problem" in loaded) throw new Error(loaded.problem);
  const { client } = loaded;
  const base = { "bootstrap.servers": options.brokers.join(","), "client.id": "bench-bare-librdkafka-pipe" };
  const producer = new client.Producer({ ...base, dr_cb: true, acks: "all" });
  const consumer = new client.KafkaConsumer({ ...base, "group.id": options.groupId, "enable.auto.commit": false, "auto.offset.reset": "earliest" });
  producer.on("delivery-report", (error, report) => {
    const batch = report.opaque as Batch;
    if (error) return batch.settle(error);
    if (--batch.unacknowledged === 0) batch.settle();
  });
  const connect = (target: typeof producer | typeof consumer): Promise<void> =>
    new Promise((resolve, reject) => target.connect({}, (error) => (error ? reject(error) : resolve())));
  await Promise.all([connect(producer), connect(consumer)]);
  producer.setPollInBackground(true);
  consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
  consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.subscribe([options.from]);

  let running = true;
  const inFlight: Batch[] = [];
  let commits = Promise.resolve();
  const loop = (async () => {
    while (running) {
      const messages = await new Promise<NativeMessage[]>((resolve, reject) => consumer.consume(CONSUME_BATCH, (error, fetched) => (error ? reject(error) : resolve(fetched))));
      if (messages.length === 0) continue;
      const batch = batchOf(messages);
      for (const { value, key, headers } of messages) {
        producer.produce(options.to, null, value, typeof key === "string" ? Buffer.from(key) : key, null, batch, (headers ?? []) as Record<string, Buffer>[]);
      }
      inFlight.push(batch);
      commits = commits
        .then(() => batch.acknowledged)
        .then(() => new Promise<void>((resolve, reject) => consumer.commitCb(batch.next, (error) => (error ? reject(error) : resolve()))));
      if (inFlight.length >= BATCHES_IN_FLIGHT) await (inFlight.shift() as Batch).acknowledged;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await commits;
      await Promise.all([producer, consumer].map((target) => new Promise((resolve) => target.disconnect(resolve))));
    },
  };
}
