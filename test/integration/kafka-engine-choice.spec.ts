import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { deployFlows, startNodeRed, type NodeRedProcess } from "../../scripts/lib/node-red-process";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { createTopic, produce, testBrokers, uniqueName } from "../support/kafka";
import { waitFor } from "../support/python";

/** A kafka-in wired to a debug node that prints each payload to the log, on a broker config with this engine setting. */
function readingFlow(engine: string, topic: string): object[] {
  return [
    { id: "engine-tab", type: "tab", label: "engine" },
    { id: "engine-broker", type: "kafka-broker", brokers: testBrokers(), clientId: "engine-choice-test", engine },
    { id: "engine-in", type: "kafka-in", z: "engine-tab", broker: "engine-broker", topic, groupId: uniqueName("engine-group"), fromBeginning: true, payloadFormat: "text", deliveryMode: "auto-commit", wires: [["engine-debug"]] },
    { id: "engine-debug", type: "debug", z: "engine-tab", active: true, tosidebar: false, console: true, complete: "payload", targetType: "msg", wires: [] },
  ];
}

/** Which engine a kafka-broker node runs on, in a real Node-RED: with the native client, and without it (as where its build failed). */
describe("the kafka-broker node's Engine setting (real runtime, real broker)", function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess | undefined;
  afterEach(async () => {
    await nodeRed?.stop();
    nodeRed = undefined;
  });

  async function start(withoutLibrdkafka: boolean): Promise<NodeRedProcess> {
    const env = withoutLibrdkafka ? { NODE_OPTIONS: `--require ${path.join(PACKAGE_ROOT, "test", "support", "without-librdkafka.js")}` } : {};
    nodeRed = await startNodeRed({ userDir: fs.mkdtempSync(path.join(os.tmpdir(), "engine-choice-")), port: await freePort(), flows: [], env });
    return nodeRed;
  }

  it("auto takes librdkafka where its client loads, and says so", async () => {
    const runtime = await start(false);
    const topic = uniqueName("engine-auto");
    await createTopic(topic, 1);
    await produce(topic, [{ value: "read-by-librdkafka" }]);
    await deployFlows(runtime.url, readingFlow("auto", topic));
    await waitFor(() => runtime.log().includes("read-by-librdkafka"), 60_000, "the record in the log");
    assert.match(runtime.log(), /Kafka engine: librdkafka \(@confluentinc\/kafka-javascript, librdkafka \d+\.\d+\.\d+; setting: auto\)/);
  });

  it("auto falls back to kafkajs where the native client does not load, saying why, and reads all the same", async () => {
    const runtime = await start(true);
    const topic = uniqueName("engine-fallback");
    await createTopic(topic, 1);
    await produce(topic, [{ value: "read-by-kafkajs" }]);
    await deployFlows(runtime.url, readingFlow("auto", topic));
    await waitFor(() => runtime.log().includes("read-by-kafkajs"), 60_000, "the record in the log");
    assert.match(runtime.log(), /engine auto: kafkajs, as the librdkafka engine cannot run here \(the librdkafka engine needs @confluentinc\/kafka-javascript, which does not load here \(Cannot find module/);
    assert.match(runtime.log(), /Kafka engine: kafkajs \(kafkajs \d+\.\d+\.\d+; setting: auto\)/);
  });

  it("librdkafka chosen by name where it does not load stops the nodes with the reason and how to install it", async () => {
    const runtime = await start(true);
    await deployFlows(runtime.url, readingFlow("librdkafka", uniqueName("engine-refused")));
    await waitFor(() => /\[error\] \[kafka-in:engine-in\]/.test(runtime.log()), 30_000, "kafka-in's error");
    const line = runtime.log().split("\n").find((entry) => entry.includes("[kafka-in:engine-in]") && entry.includes("[error]")) ?? "";
    assert.match(line, /The Kafka engine cannot run: the librdkafka engine needs @confluentinc\/kafka-javascript.*CKJS_LINKING=dynamic npm install @confluentinc\/kafka-javascript.*or choose the kafkajs engine/);
  });
});
