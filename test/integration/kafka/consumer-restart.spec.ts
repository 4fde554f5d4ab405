import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createTopic, groupMembers, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { helper, kafkaBroker, kafkaIn, statusesOf, statusOf } from "../../support/node-red-helper";
import { waitFor } from "../../support/python";

/**
 * kcat (librdkafka) holds the consumer group with the assignment protocols librdkafka
 * speaks. kafkajs speaks others, so the broker refuses kafka-in's join with
 * INCONSISTENT_GROUP_PROTOCOL, an error kafkajs does not retry: a crash made for real,
 * after which the node must be reading again on its own once kcat has left. On the
 * librdkafka engine the join is accepted and kcat keeps the topic's one partition: the
 * node waits without an error, and takes the partition over when kcat leaves.
 */
describe(`kafka-in while another client holds its group's partitions [${TEST_ENGINE} engine]`, function () {
  this.timeout(120_000);
  let kcat: ChildProcess | undefined;

  afterEach(async () => {
    kcat?.kill("SIGKILL");
    await helper.unload();
  });

  it(TEST_ENGINE === "kafkajs" ? "reports the refused join, then restarts by itself and reads every record" : "waits subscribed without an error, then reads every record once the partition is its own", async () => {
    const topic = uniqueName("restart-in");
    const groupId = uniqueName("restart-group");
    await createTopic(topic, 1);
    kcat = spawn("kcat", ["-b", testBrokers(), "-q", "-G", groupId, topic], { stdio: "ignore" });
    await waitFor(async () => (await groupMembers(groupId, topic)).members.length === 1, 30_000, "kcat to join the group");

    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "restart-tab", type: "tab" },
        { id: "restart-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "consumer-restart-test" },
        { id: "reader", type: "kafka-in", z: "restart-tab", broker: "restart-broker", topic, groupId, fromBeginning: true, wires: [["sink"]] },
        { id: "sink", type: "helper", z: "restart-tab" },
      ],
    );
    const keys: string[] = [];
    helper.getNode("sink").on("input", (msg: { key: string }) => keys.push(msg.key));
    if (TEST_ENGINE === "kafkajs") {
      await waitFor(() => /^error: .*protocols are incompatible/.test(statusOf("reader")), 30_000, "the refused join in kafka-in's status");
    } else {
      await waitFor(async () => (await groupMembers(groupId, topic)).members.length === 2, 30_000, "kafka-in to join kcat's group");
      await waitFor(() => statusOf("reader") === "subscribed", 10_000, "kafka-in subscribed, with no partition yet");
    }

    const left = new Promise((resolve) => kcat?.once("exit", resolve));
    kcat.kill("SIGTERM"); // librdkafka leaves the group on a clean exit
    await left;
    await produce(topic, ["a", "b", "c"].map((key) => ({ key, value: JSON.stringify({ key }) })));
    await waitFor(() => keys.length === 3, 60_000, "the three records after kcat left");
    assert.deepEqual(keys.sort(), ["a", "b", "c"]);
    assert.equal(statusOf("reader"), "subscribed");
    if (TEST_ENGINE !== "kafkajs") assert.deepEqual(statusesOf("reader").filter((status) => /^error/.test(status.text ?? "")), []);
  });
});
