import * as assert from "node:assert/strict";
import { createTopic, readUntil, TEST_ENGINE, uniqueName } from "../../support/kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, statusesOf } from "../../support/node-red-helper";
import { PETAL_RULES, PYTHON } from "../../support/python";
import { feedThroughFaults, startProxiedBroker, type ProxiedBroker } from "../../support/toxiproxy";

/**
 * Network faults between the nodes and a real broker: Toxiproxy in front of a listener
 * that gives the proxy's address as the broker's, so that every connection the flow's
 * clients open goes through it. The test feeds and reads through a listener of its own.
 */
describe(`network faults between the nodes and the broker (Toxiproxy) [${TEST_ENGINE} engine]`, function () {
  this.timeout(240_000);
  let broker: ProxiedBroker;

  before(async () => {
    broker = await startProxiedBroker();
  });

  after(async () => {
    await helper.unload();
    await broker?.stop();
  });

  it("at least once through 500 ms of latency, then connection resets, mid-stream: every record scored, and the status said so while it lasted", async () => {
    const input = uniqueName("faults-in");
    const output = uniqueName("faults-out");
    await createTopic(input, 2, broker.kafka.brokers);
    await createTopic(output, 1, broker.kafka.brokers);
    await helper.load(
      [kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: broker.proxyAddress, clientId: "faults-test" },
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: uniqueName("faults"), fromBeginning: true, payloadFormat: "json", deliveryMode: "at-least-once", wires: [["model"]] },
        { id: "model", type: "python-model", z: "f1", python: PYTHON, kind: "python", handlerPath: PETAL_RULES, batchSize: 64, maxWaitMs: 5, timeoutMs: 30000, wires: [["out"]] },
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", wires: [] },
        { id: "catcher", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
        { id: "caught", type: "helper", z: "f1" },
      ],
    );
    const caught: unknown[] = [];
    helper.getNode("caught").on("input", (msg: unknown) => caught.push(msg));

    let statusesBefore = 0;
    const sent = await feedThroughFaults(broker, input, (index) => [5.0 + (index % 3), 3.4, 1.5, 0.2], () => (statusesBefore = statusesOf("in").length + statusesOf("out").length));

    const keysOf = (records: { key: Buffer | null }[]): Set<string> => new Set(records.map((record) => String(record.key)));
    const records = await readUntil(output, (read) => keysOf(read).size >= sent, 180_000, `all ${sent} keys`, broker.kafka.brokers);
    const keys = keysOf(records);
    assert.equal(keys.size, sent, `every one of the ${sent} records scored (${records.length} written, ${records.length - keys.size} of them again)`);
    assert.deepEqual(caught, [], "no record failed for the faults");
    const shown = [...statusesOf("in"), ...statusesOf("out")].slice(statusesBefore).map((status) => `${status.fill}: ${status.text}`);
    assert.ok(
      shown.some((text) => /^(yellow|red|grey): .*(connecting|disconnected|error|retrying|waiting|reset|ECONNRESET|broker|paused)/i.test(text)),
      `a status told of the faults: ${JSON.stringify([...new Set(shown)])}`,
    );
  });
});
