import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { KAFKA_BIN } from "../../scripts/lib/install-kafka-tools";
import { createTopic, produce, testBrokers, uniqueName } from "../support/kafka";

const execTool = promisify(execFile);

/** Runs a wrapper from .kafka/bin as a user would; resolves with what it printed. */
async function tool(name: string, args: string[]): Promise<string> {
  const { stdout } = await execTool(path.join(KAFKA_BIN, name), ["--bootstrap-server", testBrokers(), ...args], { timeout: 60_000 });
  return stdout;
}

/** Commits `offset` on partition 0 for a group with no members, as a consumer that read that far would. */
async function commitOffset(groupId: string, topic: string, offset: number): Promise<void> {
  const admin = new Kafka({ clientId: "test-client", brokers: testBrokers().split(","), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: String(offset) }] });
  } finally {
    await admin.disconnect();
  }
}

describe("the Kafka command-line tools in .kafka/bin (real broker)", function () {
  this.timeout(180_000);
  const topic = uniqueName("tools");
  const group = uniqueName("tools-group");

  before(async () => {
    await createTopic(topic, 1);
    await produce(topic, Array.from({ length: 5 }, (_, index) => ({ key: `k${index}`, value: `{"n":${index}}` })));
    await commitOffset(group, topic, 3);
  });

  it("kafka-topics lists a topic the test created, and describes its partitions", async () => {
    assert.ok((await tool("kafka-topics", ["--list"])).split("\n").includes(topic));
    assert.match(await tool("kafka-topics", ["--describe", "--topic", topic]), new RegExp(`Topic: ${topic}\\s.*PartitionCount: 1`));
  });

  it("kafka-consumer-groups shows a group's committed offset, the log end and the lag", async () => {
    const description = await tool("kafka-consumer-groups", ["--describe", "--group", group]);
    const row = description.split("\n").find((line) => line.split(/\s+/).includes(topic));
    assert.ok(row, `a row for ${topic} in:\n${description}`);
    const [groupColumn, topicColumn, partition, current, logEnd, lag] = row.trim().split(/\s+/);
    assert.deepEqual([groupColumn, topicColumn, partition, current, logEnd, lag], [group, topic, "0", "3", "5", "2"]);
  });

  it("kafka-console-consumer prints the records with their keys", async () => {
    const printed = await tool("kafka-console-consumer", ["--topic", topic, "--from-beginning", "--max-messages", "5", "--property", "print.key=true"]);
    assert.deepEqual(
      printed.trim().split("\n"),
      Array.from({ length: 5 }, (_, index) => `k${index}\t{"n":${index}}`),
    );
  });

  it("kafka-configs describes the topic's settings", async () => {
    const settings = await tool("kafka-configs", ["--describe", "--entity-type", "topics", "--entity-name", topic, "--all"]);
    assert.match(settings, /cleanup\.policy=delete/);
  });
});
