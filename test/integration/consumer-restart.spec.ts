import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createTopic, groupMembers, produce, testBrokers, uniqueName } from "../support/kafka";
import { helper, kafkaBroker, kafkaIn, statusOf } from "../support/node-red-helper";
import { waitFor } from "../support/python";

/**
 * A crash kafkajs does not recover from by itself, made for real: kcat (librdkafka)
 * holds the consumer group with assignment protocols kafkajs does not speak, so the
 * broker refuses kafka-in's join with INCONSISTENT_GROUP_PROTOCOL, an error kafkajs
 * does not retry. Once kcat has left, kafka-in must be reading again on its own.
 */
describe("kafka-in after a crash kafkajs gives up on (real broker, kcat in the group)", function () {
  this.timeout(120_000);
  let kcat: ChildProcess | undefined;

  afterEach(async () => {
    kcat?.kill("SIGKILL");
    await helper.unload();
  });

  it("reports the error, then restarts by itself and reads every record", async () => {
    const topic = uniqueName("restart-in");
    const groupId = uniqueName("restart-group");
    await createTopic(topic, 1);
    kcat = spawn("kcat", ["-b", testBrokers(), "-q", "-G", groupId, topic], { stdio: "ignore" });
    await waitFor(async () => (await groupMembers(groupId, topic)).members.length === 1, 30_000, "kcat to join the group");

    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "restart-tab", type: "tab" },
        { id: "restart-broker", type: "kafka-broker", brokers: testBrokers(), clientId: "consumer-restart-test" },
        { id: "reader", type: "kafka-in", z: "restart-tab", broker: "restart-broker", topic, groupId, fromBeginning: true, wires: [["sink"]] },
        { id: "sink", type: "helper", z: "restart-tab" },
      ],
    );
    const keys: string[] = [];
    helper.getNode("sink").on("input", (msg: { key: string }) => keys.push(msg.key));
    await waitFor(() => /^error: .*protocols are incompatible/.test(statusOf("reader")), 30_000, "the refused join in kafka-in's status");

    const left = new Promise((resolve) => kcat?.once("exit", resolve));
    kcat.kill("SIGTERM"); // librdkafka leaves the group on a clean exit
    await left;
    await produce(topic, ["a", "b", "c"].map((key) => ({ key, value: JSON.stringify({ key }) })));
    await waitFor(() => keys.length === 3, 60_000, "the three records after the restart");
    assert.deepEqual(keys.sort(), ["a", "b", "c"]);
    assert.equal(statusOf("reader"), "subscribed");
  });
});
