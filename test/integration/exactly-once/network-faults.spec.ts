import * as assert from "node:assert/strict";
import { assertExactlyOnce, exactlyOnceFlow } from "../../support/exactly-once";
import { createTopic, uniqueName } from "../../support/kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, statusesOf } from "../../support/node-red-helper";
import { feedThroughFaults, startProxiedBroker, type ProxiedBroker } from "../../support/toxiproxy";

/** Exactly-once through the faults the at-least-once network spec injects (Toxiproxy between the nodes and the broker). */
describe("exactly-once through network faults between the nodes and the broker (Toxiproxy) [librdkafka engine]", function () {
  this.timeout(300_000);
  let broker: ProxiedBroker;

  before(async () => {
    broker = await startProxiedBroker();
  });

  after(async () => {
    await helper.unload();
    await broker?.stop();
  });

  it("500 ms of latency, then connection resets, mid-stream: 0 lost, 0 duplicates, and the status said so while it lasted", async () => {
    const names = { input: uniqueName("eo-faults-in"), output: uniqueName("eo-faults-out"), groupId: uniqueName("eo-faults") };
    await createTopic(names.input, 2, broker.kafka.brokers);
    await createTopic(names.output, 1, broker.kafka.brokers);
    // the debug node of the flow becomes the helper's node, which records what Catch got
    const flows = exactlyOnceFlow({ ...names, brokers: broker.proxyAddress, clientId: "eo-faults" }).map((node) =>
      (node as { type: string }).type === "debug" ? { id: "eo-failures", type: "helper", z: "eo-flow" } : node,
    );
    await helper.load([kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode], flows);
    const caught: { error?: { message?: string } }[] = [];
    helper.getNode("eo-failures").on("input", (msg: { error?: { message?: string } }) => caught.push(msg));

    let statusesBefore = 0;
    const sent = await feedThroughFaults(broker, names.input, (index) => [index, 1, 2], () => (statusesBefore = statusesOf("eo-in").length + statusesOf("eo-out").length));

    await assertExactlyOnce(names.output, sent, broker.kafka.brokers);
    // a transaction the faults broke is aborted and its records processed again: said, not failed
    const failures = caught.map((msg) => msg.error?.message ?? "").filter((message) => !message.startsWith("Transaction aborted"));
    assert.deepEqual(failures, [], "no record failed for the faults");
    const shown = [...statusesOf("eo-in"), ...statusesOf("eo-out")].slice(statusesBefore).map((status) => `${status.fill}: ${status.text}`);
    console.log(`      (statuses during the faults: ${JSON.stringify([...new Set(shown)])})`);
    assert.ok(
      shown.some((text) => /^(yellow|red|grey): .*(connecting|disconnected|error|retrying|waiting|reset|ECONNRESET|broker|paused|aborted)/i.test(text)),
      `a status told of the faults: ${JSON.stringify([...new Set(shown)])}`,
    );
  });
});
