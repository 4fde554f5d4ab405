import { Kafka, logLevel } from "kafkajs";
import { scriptKafkaLog } from "../lib/kafka-log";

export interface BarePipeOptions {
  brokers: string[];
  from: string;
  to: string;
  groupId: string;
  /** Partitions of `from`: each gets its own batch in flight. */
  partitions: number;
}

/**
 * The baseline the Kafka nodes are measured against: a plain kafkajs consumer and
 * producer copying one topic to another with the same guarantee as kafka-in ->
 * kafka-out (at-least-once, acks all). Each fetched batch leaves as one produce
 * request, and its offsets are committed only after the broker acknowledged it.
 */
export async function startBareClientPipe(options: BarePipeOptions): Promise<{ stop(): Promise<void> }> {
  const kafka = new Kafka({ clientId: "bench-bare-pipe", brokers: options.brokers, logLevel: logLevel.ERROR, logCreator: scriptKafkaLog("[bench]") });
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: options.groupId });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topics: [options.from], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: options.partitions,
    // kafkajs commits a resolved batch once this long has passed since its last commit: kafka-in's interval
    autoCommitInterval: 200,
    eachBatch: async ({ batch }) => {
      const messages = batch.messages.map(({ key, value, headers }) => ({ key, value, headers }));
      await producer.send({ topic: options.to, messages });
    },
  });
  return {
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
