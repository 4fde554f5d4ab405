import * as assert from "node:assert/strict";
import { catchNode, helper, kafkaBroker, kafkaCommit, kafkaIn, statusOf } from "../../support/node-red-helper";
import { committedOffset, createTopic, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { waitFor } from "../../support/python";

const RECORDS = 40;
const MAX_UNSETTLED = 10;

/** Flows that end without kafka-out, on the real broker. */
describe(`kafka-commit: settling records in flows that end without kafka-out (real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(120_000);
  let topic: string;

  before(async () => {
    topic = uniqueName("commit-in");
    await createTopic(topic, 1);
    await produce(
      topic,
      Array.from({ length: RECORDS }, (_, index) => ({ key: `k${index}`, value: JSON.stringify({ index }) })),
    );
  });

  afterEach(async () => {
    await helper.unload();
  });

  function flow(groupId: string, withCommit: boolean): object[] {
    return [
      { id: "commit-tab", type: "tab" },
      { id: "commit-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "kafka-commit-test" },
      {
        id: "reader",
        type: "kafka-in",
        z: "commit-tab",
        broker: "commit-broker",
        topic,
        groupId,
        fromBeginning: true,
        maxUnsettled: MAX_UNSETTLED,
        wires: [[withCommit ? "committer" : "sink"]],
      },
      { id: "committer", type: "kafka-commit", z: "commit-tab", wires: [["sink"]] },
      { id: "sink", type: "helper", z: "commit-tab" },
    ];
  }

  it("without it, the consumer pauses at max unsettled and commits nothing", async () => {
    const groupId = uniqueName("no-commit");
    await helper.load([kafkaBroker, kafkaIn, kafkaCommit], flow(groupId, false));
    const received: unknown[] = [];
    helper.getNode("sink").on("input", (msg) => received.push(msg));
    await waitFor(() => received.length >= MAX_UNSETTLED, 60_000, `${MAX_UNSETTLED} records`);
    await waitFor(() => statusOf("reader") === `paused: ${MAX_UNSETTLED} in flight`, 10_000, "the paused status");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(received.length, MAX_UNSETTLED, "no record beyond max unsettled is read");
    assert.equal(await committedOffset(groupId, topic), "-1");
  });

  it("with it, every record flows through and its offset is committed", async () => {
    const groupId = uniqueName("commit");
    await helper.load([kafkaBroker, kafkaIn, kafkaCommit], flow(groupId, true));
    const keys = new Set<string>();
    helper.getNode("sink").on("input", (msg: { key: string }) => keys.add(msg.key));
    await waitFor(() => keys.size === RECORDS, 60_000, `all ${RECORDS} records`);
    await waitFor(async () => (await committedOffset(groupId, topic)) === String(RECORDS), 10_000, `the committed offset to reach ${RECORDS}`);
    await waitFor(() => statusOf("committer") === `${RECORDS} settled`, 5_000, "the settled count in status");
  });

  it("sends a message that did not come from kafka-in to Catch", async () => {
    await helper.load(
      [kafkaCommit, catchNode],
      [
        { id: "commit-tab", type: "tab" },
        { id: "committer", type: "kafka-commit", z: "commit-tab", wires: [["sink"]] },
        { id: "sink", type: "helper", z: "commit-tab" },
        { id: "errors", type: "catch", z: "commit-tab", scope: null, wires: [["caught"]] },
        { id: "caught", type: "helper", z: "commit-tab" },
      ],
    );
    const caught = new Promise<{ error: { message: string }; payload: unknown }>((resolve) => helper.getNode("caught").on("input", resolve));
    helper.getNode("committer").receive({ payload: "made by hand" });
    const msg = await caught;
    assert.equal(msg.payload, "made by hand");
    assert.match(msg.error.message, /does not come from a kafka in node/);
  });
});
