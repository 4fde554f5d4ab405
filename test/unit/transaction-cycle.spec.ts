import * as assert from "node:assert/strict";
import * as sinon from "sinon";
import type { EngineConsumer, TransactionalProducer } from "../../src/kafka/engine";
import { TransactionCycle } from "../../src/kafka/transactions/transaction-cycle";

function fakeProducer(): TransactionalProducer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    begin: async () => void calls.push("begin"),
    send: async (topic) => {
      calls.push(`send ${topic}`);
      return { topic, partition: 0, offset: "0" };
    },
    commit: async (points) => void calls.push(`commit ${points.map((point) => point.offset).join(",")}`),
    abort: async () => void calls.push("abort"),
    close: async () => void calls.push("close"),
  };
}

const consumer = {} as EngineConsumer;
const quiet = { fenced: () => undefined, retrying: () => undefined };

describe("TransactionCycle", () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => clock?.restore());

  it("holds emission until the first transaction is open, and while one closes", async () => {
    const producer = fakeProducer();
    const cycle = new TransactionCycle(producer);
    assert.equal(cycle.isOpen, false);
    let opened = false;
    void cycle.whenOpen().then(() => (opened = true));
    await cycle.start();
    await Promise.resolve();
    assert.equal(opened, true);
    cycle.hold();
    assert.equal(cycle.isOpen, false);
    await cycle.commit([{ topic: "t", partition: 0, offset: "7" }], consumer);
    assert.equal(cycle.isOpen, true);
    assert.deepEqual(producer.calls, ["begin", "commit 7", "begin"]);
    assert.equal(cycle.commits, 1);
  });

  it("pauses before beginning again when aborts follow each other, and not after a commit", async () => {
    clock = sinon.useFakeTimers();
    const producer = fakeProducer();
    const cycle = new TransactionCycle(producer);
    await cycle.start();
    cycle.hold();
    await cycle.abortAndBegin(quiet); // the first abort: no pause
    assert.equal(cycle.isOpen, true);
    cycle.hold();
    let reopened = false;
    void cycle.abortAndBegin(quiet).then(() => (reopened = true));
    await clock.tickAsync(499);
    assert.equal(reopened, false, "the second abort in a row waits 0.5 s");
    await clock.tickAsync(1);
    assert.equal(reopened, true);
    await cycle.commit([], consumer);
    cycle.hold();
    await cycle.abortAndBegin(quiet);
    assert.equal(cycle.isOpen, true, "a commit resets the count");
    assert.equal(cycle.aborts, 3);
  });

  it("replaces a producer that cannot abort (fenced), and says so", async () => {
    const producer = fakeProducer();
    producer.abort = async () => {
      throw new Error("This instance has been fenced by a newer instance");
    };
    const cycle = new TransactionCycle(producer);
    await cycle.start();
    const fenced: string[] = [];
    await cycle.abortAndBegin({ fenced: (error) => fenced.push(error.message), retrying: () => undefined });
    assert.deepEqual(fenced, ["This instance has been fenced by a newer instance"]);
    assert.deepEqual(producer.calls, ["begin", "close", "begin"]);
    assert.equal(cycle.isOpen, true);
  });
});
