import * as assert from "node:assert/strict";
import type { Producer, ProducerBatch, RecordMetadata } from "kafkajs";
import * as sinon from "sinon";
import { BatchingProducer } from "../../src/kafka/batching-producer";

type SendBatch = sinon.SinonStub<[ProducerBatch], Promise<RecordMetadata[]>>;

function stubbedProducer(): { producer: BatchingProducer; sendBatch: SendBatch } {
  const sendBatch: SendBatch = sinon.stub<[ProducerBatch], Promise<RecordMetadata[]>>().resolves([]);
  const kafkaProducer = { sendBatch } as unknown as Producer;
  return { producer: new BatchingProducer(async () => kafkaProducer, { acks: -1 }), sendBatch };
}

const valuesOf = (batch: ProducerBatch): unknown[] => (batch.topicMessages ?? []).flatMap(({ messages }) => messages.map((message) => message.value));

/** Each msg in its own setImmediate, all queued at once: how Node-RED delivers the msgs a node sends together. */
function deliverAsNodeRedDoes(count: number, send: (index: number) => Promise<unknown>): Promise<unknown[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => new Promise((resolve) => setImmediate(() => resolve(send(index))))));
}

describe("BatchingProducer (kafkajs producer stubbed)", () => {
  it("writes the msgs Node-RED delivers in one burst in a single request", async () => {
    const { producer, sendBatch } = stubbedProducer();
    await deliverAsNodeRedDoes(10, (index) => producer.send("scored", { value: `v${index}` }));
    assert.equal(sendBatch.callCount, 1);
    assert.deepEqual(valuesOf(sendBatch.firstCall.args[0]), Array.from({ length: 10 }, (_, index) => `v${index}`));
  });

  it("gathers what arrives while a request is on its way into the next request, in order", async () => {
    const { producer, sendBatch } = stubbedProducer();
    let acknowledge: (written: RecordMetadata[]) => void = () => undefined;
    sendBatch.onFirstCall().returns(new Promise((resolve) => (acknowledge = resolve)));
    const first = producer.send("scored", { value: "a" });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sendBatch.callCount, 1);
    const later = [producer.send("scored", { value: "b" }), producer.send("scored", { value: "c" })];
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(sendBatch.callCount, 1, "no second request while the first is unacknowledged");
    acknowledge([]);
    await Promise.all([first, ...later]);
    assert.equal(sendBatch.callCount, 2);
    assert.deepEqual(valuesOf(sendBatch.secondCall.args[0]), ["b", "c"]);
  });

  it("fails every msg of a request the broker refused, and goes on with the next", async () => {
    const { producer, sendBatch } = stubbedProducer();
    sendBatch.onFirstCall().rejects(new Error("NOT_ENOUGH_REPLICAS"));
    const refused = await Promise.allSettled([producer.send("scored", { value: "a" }), producer.send("scored", { value: "b" })]);
    assert.deepEqual(
      refused.map((result) => result.status === "rejected" && (result.reason as Error).message),
      ["NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS"],
    );
    await producer.send("scored", { value: "c" });
    assert.deepEqual(valuesOf(sendBatch.secondCall.args[0]), ["c"]);
  });
});
