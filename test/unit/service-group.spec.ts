import * as assert from "node:assert/strict";
import { ServiceGroup, describeExit, lastWords, type WatchedProcess } from "../../scripts/lib/service-group";

/** A process stand-in that ends when told to, or when stopped. */
function fakeProcess(log = ""): WatchedProcess & { end(code: number): void } {
  let end: (code: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((resolve) => (end = resolve));
  return { exited, logFile: "/tmp/fake.log", log: () => log, stop: async () => end(0), end: (code) => end(code) };
}

describe("the services npm start runs", () => {
  it("reports the first process that ends by itself, with its exit", async () => {
    const services = new ServiceGroup();
    const broker = fakeProcess();
    const nodeRed = fakeProcess();
    services.watch("the Kafka broker", broker);
    services.watch("Node-RED", nodeRed);
    nodeRed.end(137);
    const death = await services.died;
    assert.equal(death.name, "Node-RED");
    assert.equal(describeExit(death.code), "killed by SIGKILL");
    assert.equal(services.death, death);
  });

  it("reports nothing for processes stopped on request, and stops them in reverse order", async () => {
    const services = new ServiceGroup();
    const order: string[] = [];
    const broker = fakeProcess();
    services.watch("the Kafka broker", { ...broker, stop: async () => (order.push("broker"), broker.stop()) });
    services.add(async () => void order.push("feed"));
    await services.stopAll();
    await broker.exited;
    assert.deepEqual(order, ["feed", "broker"]);
    assert.equal(services.death, undefined);
  });

  it("stops at once what is added after stopping began", async () => {
    const services = new ServiceGroup();
    await services.stopAll();
    let stopped = false;
    services.add(async () => void (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, true);
  });

  it("describes an exit code, and a signal as the watchdog shell reports it (128 + its number)", () => {
    assert.equal(describeExit(1), "exit code 1");
    assert.equal(describeExit(143), "killed by SIGTERM");
    assert.equal(describeExit(null), "killed by a signal");
  });

  it("quotes the last lines of the dead process's log", async () => {
    const services = new ServiceGroup();
    const nodeRed = fakeProcess(Array.from({ length: 30 }, (_, line) => `line ${line}`).join("\n") + "\n");
    services.watch("Node-RED", nodeRed);
    nodeRed.end(1);
    const words = lastWords(await services.died, 3);
    assert.equal(words, "the last lines of /tmp/fake.log:\n    line 27\n    line 28\n    line 29");
  });
});
