import * as assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { helper, kafkaBroker, kafkaIn, waitForStatus } from "../../support/node-red-helper";
import { waitFor } from "../../support/python";

interface Received {
  key: string;
  payload: unknown;
}

/**
 * kafka-in's isolation level against records a transactional producer wrote on the real
 * broker: a committed transaction, an aborted one, and records written outside both.
 */
describe(`kafka-in isolation level: committed and aborted transactions on a real broker [${TEST_ENGINE} engine]`, function () {
  this.timeout(120_000);
  let topic: string;

  before(async () => {
    topic = uniqueName("isolation");
    await createTopic(topic, 1);
    const kafka = new Kafka({ clientId: "isolation-test", brokers: [testBrokers()], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: uniqueName("isolation-tx"), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ key: "committed-1", value: "{}" }, { key: "committed-2", value: "{}" }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ key: "aborted-1", value: "{}" }, { key: "aborted-2", value: "{}" }] });
      await aborted.abort();
      const last = await producer.transaction();
      await last.send({ topic, messages: [{ key: "committed-3", value: "{}" }] });
      await last.commit();
    } finally {
      await producer.disconnect();
    }
  });

  afterEach(async () => {
    await helper.unload();
  });

  async function keysRead(isolationLevel: string | undefined, count: number): Promise<string[]> {
    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "isolation-test" },
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic, groupId: uniqueName("isolation"), fromBeginning: true, deliveryMode: "auto-commit", isolationLevel, wires: [["out"]] },
        { id: "out", type: "helper", z: "f1" },
      ],
    );
    const received: Received[] = [];
    helper.getNode("out").on("input", (msg: Received) => received.push(msg));
    await waitFor(() => received.length >= count, 60_000, `${count} records read`);
    await waitForStatus("in", "subscribed", 10_000, "kafka-in still well");
    // a moment for any record that should not come
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return received.map((msg) => msg.key);
  }

  it("reads only what committed transactions wrote by default: the aborted records never come", async () => {
    assert.deepEqual(await keysRead(undefined, 3), ["committed-1", "committed-2", "committed-3"]);
  });

  it("reads the aborted records too with read_uncommitted", async () => {
    assert.deepEqual(await keysRead("read_uncommitted", 5), ["committed-1", "committed-2", "aborted-1", "aborted-2", "committed-3"]);
  });
});
