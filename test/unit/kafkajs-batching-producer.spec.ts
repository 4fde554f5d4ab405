import * as assert from "node:assert/strict";
import type { Producer, ProducerBatch, RecordMetadata } from "kafkajs";
import * as sinon from "sinon";
import type { ProducerEvents } from "../../src/kafka/engine";
import { BatchingProducer } from "../../src/kafka/engines/kafkajs/batching-producer";
import { ProduceRefusedError, ProducerStoppedError } from "../../src/kafka/produce-errors";

type SendBatch = sinon.SinonStub<[ProducerBatch], Promise<RecordMetadata[]>>;

function stubbedProducer(events: ProducerEvents = {}): { producer: BatchingProducer; sendBatch: SendBatch } {
  const sendBatch: SendBatch = sinon.stub<[ProducerBatch], Promise<RecordMetadata[]>>().resolves([]);
  const kafkaProducer = { sendBatch } as unknown as Producer;
  return { producer: new BatchingProducer(async () => kafkaProducer, { acks: -1 }, undefined, events), sendBatch };
}

/** The broker's answer to a request holding a record over the topic's max.message.bytes, as kafkajs reports it. */
function tooLarge(): Error {
  return Object.assign(new Error("The request included a message larger than the max message size the server will accept"), {
    name: "KafkaJSProtocolError",
    type: "MESSAGE_TOO_LARGE",
    retriable: false,
  });
}

/** kafkajs giving up on a broker it cannot reach. */
function unreachable(): Error {
  const cause = Object.assign(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"), { name: "KafkaJSConnectionError", retriable: true });
  return Object.assign(new Error(cause.message), { name: "KafkaJSNumberOfRetriesExceeded", retriable: false, cause });
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

  it("fails only the record the broker refuses for good; the rest of its request is written, in order", async () => {
    const { producer, sendBatch } = stubbedProducer();
    sendBatch.callsFake(async (batch) => {
      if (valuesOf(batch).includes("big")) throw tooLarge();
      return [];
    });
    const values = ["a", "b", "big", "c", "d"];
    const outcomes = await Promise.allSettled(values.map((value) => producer.send("scored", { value })));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"],
    );
    const refused = (outcomes[2] as PromiseRejectedResult).reason as ProduceRefusedError;
    assert.ok(refused instanceof ProduceRefusedError);
    assert.equal(refused.code, "MESSAGE_TOO_LARGE");
    assert.match(refused.message, /^scored: the record is larger than the topic accepts/);
    const written = sendBatch.getCalls().flatMap((call) => {
      const batch = valuesOf(call.args[0]);
      return batch.includes("big") ? [] : batch;
    });
    assert.deepEqual(written, ["a", "b", "c", "d"]);
  });

  it("keeps sending a record marked retry after the client gives up on the broker, in order, and says so", async () => {
    const clock = sinon.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const retrying: number[] = [];
      let recovered = 0;
      const { producer, sendBatch } = stubbedProducer({ retrying: (_error, delay) => retrying.push(delay), recovered: () => recovered++ });
      sendBatch.onFirstCall().rejects(unreachable());
      sendBatch.onSecondCall().rejects(unreachable());
      const first = producer.send("scored", { value: "a" }, { retry: true });
      await new Promise((resolve) => setImmediate(resolve));
      const second = producer.send("scored", { value: "b" }, { retry: true });
      await clock.tickAsync(1000);
      await clock.tickAsync(2000);
      await Promise.all([first, second]);
      assert.deepEqual(retrying, [1000, 2000], "waits twice as long after each failure");
      assert.equal(recovered, 1);
      assert.deepEqual(valuesOf(sendBatch.thirdCall.args[0]), ["a", "b"], "the retried record goes first, with what queued behind it");
    } finally {
      clock.restore();
    }
  });

  it("on stop, rejects what waits to be retried and what is sent later, as stopped", async () => {
    const { producer, sendBatch } = stubbedProducer();
    sendBatch.rejects(unreachable());
    const waiting = producer.send("scored", { value: "a" }, { retry: true });
    while (sendBatch.callCount === 0) await new Promise((resolve) => setImmediate(resolve));
    producer.stop();
    await assert.rejects(waiting, ProducerStoppedError);
    await assert.rejects(producer.send("scored", { value: "b" }), ProducerStoppedError);
    assert.equal(sendBatch.callCount, 1);
  });
});
