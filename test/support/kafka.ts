import { randomUUID } from "node:crypto";
import { AssignerProtocol, Kafka, logLevel, type KafkaMessage, type Message } from "kafkajs";
import type { EngineChoice } from "../../src/kafka/engines/open-engine";

/**
 * The Kafka engine the Kafka integration specs (test/integration/kafka/) run on:
 * TEST_KAFKA_ENGINE, else librdkafka. `npm test` runs them on both, side by side.
 */
export const TEST_ENGINE: EngineChoice = process.env.TEST_KAFKA_ENGINE === "kafkajs" ? "kafkajs" : "librdkafka";

/**
 * The broker for integration tests: the embedded one `npm test` starts, or any
 * cluster named in TEST_KAFKA_BROKERS.
 */
export function testBrokers(): string {
  const brokers = process.env.TEST_KAFKA_BROKERS;
  if (!brokers) throw new Error("TEST_KAFKA_BROKERS is not set: run the suite with `npm test`, which starts a broker");
  return brokers;
}

/** A client of the test broker, or of `brokers` (a spec that starts a broker of its own). */
function client(brokers = testBrokers()): Kafka {
  return new Kafka({ clientId: "test-client", brokers: brokers.split(","), logLevel: logLevel.NOTHING });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** `config` sets topic configs, e.g. `{"max.message.bytes": "1024"}`. */
export async function createTopic(topic: string, partitions = 1, brokers?: string, config: Record<string, string> = {}): Promise<void> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries }], waitForLeaders: false });
    // kafkajs's own wait for leaders gives up when a busy broker does not list the new topic yet
    const deadline = Date.now() + 30_000;
    for (;;) {
      const listed = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const led = listed?.topics[0]?.partitions.filter((partition) => partition.leader >= 0).length ?? 0;
      if (led === partitions) return;
      if (Date.now() > deadline) throw new Error(`topic ${topic}: ${led} of ${partitions} partitions have a leader after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

export async function produce(topic: string, messages: Message[], brokers?: string): Promise<void> {
  const producer = client(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** A record as read, with the partition it was read from. */
export type ReadRecord = KafkaMessage & { partition: number };

/** Reads a topic from the beginning until `enough` says so; fails after timeoutMs. */
export async function readUntil(topic: string, enough: (received: ReadRecord[]) => boolean, timeoutMs: number, what: string, brokers?: string): Promise<ReadRecord[]> {
  const consumer = client(brokers).consumer({ groupId: uniqueName("test-reader") });
  const received: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not arrive on ${topic} (${received.length} records read)`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({ ...message, partition });
          if (enough(received)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

export function consume(topic: string, count: number, timeoutMs = 60_000, brokers?: string): Promise<ReadRecord[]> {
  return readUntil(topic, (received) => received.length >= count, timeoutMs, `${count} records`, brokers);
}

/** The first record, from the beginning of the topic, that matches. */
export async function findMatching(topic: string, matches: (record: ReadRecord) => boolean, timeoutMs = 60_000): Promise<ReadRecord> {
  const received = await readUntil(topic, (records) => records.some(matches), timeoutMs, "a matching record");
  return received.find(matches) as ReadRecord;
}

/** The first record, from the beginning of the topic, whose key matches. */
export function findRecord(topic: string, keyMatches: (key: string) => boolean, timeoutMs = 60_000): Promise<ReadRecord> {
  return findMatching(topic, (record) => keyMatches(String(record.key)), timeoutMs);
}

/** The committed offset of a group on partition 0 of a topic ("-1" when none). */
export async function committedOffset(groupId: string, topic: string): Promise<string> {
  const admin = client().admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return entry.partitions.find((partition) => partition.partition === 0)?.offset ?? "-1";
  } finally {
    await admin.disconnect();
  }
}

/** Each member of a consumer group, by client id, with the partitions of `topic` it was assigned. */
export interface GroupMember {
  clientId: string;
  partitions: number[];
}

export async function groupMembers(groupId: string, topic: string): Promise<{ state: string; members: GroupMember[] }> {
  const admin = client().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    const members = group.members.map((member) => {
      // empty while the member is between a rebalance's join and sync
      const decoded = member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
      return { clientId: member.clientId, partitions: [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b) };
    });
    return { state: group.state, members };
  } finally {
    await admin.disconnect();
  }
}

/** Per partition, the offset the next record will get (the high watermark). */
export async function endOffsets(topic: string): Promise<Map<number, string>> {
  const admin = client().admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, high]));
  } finally {
    await admin.disconnect();
  }
}

/** Per partition, the committed offset of a group ("-1" where none). */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  const admin = client().admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(entry.partitions.map(({ partition, offset }) => [partition, offset]));
  } finally {
    await admin.disconnect();
  }
}
