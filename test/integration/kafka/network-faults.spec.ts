import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Proxy } from "toxiproxy-node-client";
import { freePort, startEmbeddedKafka, type EmbeddedKafka } from "../../../scripts/lib/embedded-kafka";
import { createTopic, produce, readUntil, TEST_ENGINE, uniqueName } from "../../support/kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, statusesOf } from "../../support/node-red-helper";
import { PETAL_RULES, PYTHON } from "../../support/python";
import { addToxic, startToxiproxy, type ToxiproxyServer } from "../../support/toxiproxy";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Network faults between the nodes and a real broker: Toxiproxy in front of a listener
 * that gives the proxy's address as the broker's, so that every connection the flow's
 * clients open goes through it. The test feeds and reads through a listener of its own.
 */
describe(`network faults between the nodes and the broker (Toxiproxy) [${TEST_ENGINE} engine]`, function () {
  this.timeout(240_000);
  let toxiproxy: ToxiproxyServer;
  let kafka: EmbeddedKafka;
  let proxy: Proxy;
  let proxyAddress: string;

  before(async () => {
    toxiproxy = await startToxiproxy();
    proxyAddress = `127.0.0.1:${await freePort()}`;
    kafka = await startEmbeddedKafka({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "kafka-faults-")), port: 0, controllerPort: 0, proxied: { advertised: proxyAddress } });
    proxy = await toxiproxy.client.createProxy({ name: "kafka", listen: proxyAddress, upstream: kafka.proxied as string });
  });

  after(async () => {
    await helper.unload();
    await kafka?.stop();
    if (kafka) fs.rmSync(kafka.dataDir, { recursive: true, force: true });
    await toxiproxy?.stop();
  });

  it("at least once through 500 ms of latency, then connection resets, mid-stream: every record scored, and the status said so while it lasted", async () => {
    const input = uniqueName("faults-in");
    const output = uniqueName("faults-out");
    await createTopic(input, 2, kafka.brokers);
    await createTopic(output, 1, kafka.brokers);
    await helper.load(
      [kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: proxyAddress, clientId: "faults-test" },
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: uniqueName("faults"), fromBeginning: true, payloadFormat: "json", deliveryMode: "at-least-once", wires: [["model"]] },
        { id: "model", type: "python-model", z: "f1", python: PYTHON, kind: "python", handlerPath: PETAL_RULES, batchSize: 64, maxWaitMs: 5, timeoutMs: 30000, wires: [["out"]] },
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", wires: [] },
        { id: "catcher", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
        { id: "caught", type: "helper", z: "f1" },
      ],
    );
    const caught: unknown[] = [];
    helper.getNode("caught").on("input", (msg: unknown) => caught.push(msg));

    // 20 records every 250 ms for 16 s, written past the proxy; the faults come at 3 s and 9 s
    const perTick = 20;
    const ticks = 64;
    let sent = 0;
    const feed = (async () => {
      for (let tick = 0; tick < ticks; tick++) {
        await produce(input, Array.from({ length: perTick }, () => ({ key: String(sent), value: JSON.stringify([5.0 + (sent++ % 3), 3.4, 1.5, 0.2]) })), kafka.brokers);
        await sleep(250);
      }
    })();
    await sleep(3000);
    const statusesBefore = statusesOf("in").length + statusesOf("out").length;
    const removeLatency = await addToxic(proxy, "slow", "latency", { latency: 500, jitter: 0 });
    await sleep(5000);
    await removeLatency();
    await sleep(1000);
    const removeResets = await addToxic(proxy, "resets", "reset_peer", { timeout: 0 });
    await sleep(4000);
    await removeResets();
    await feed;

    const keysOf = (records: { key: Buffer | null }[]): Set<string> => new Set(records.map((record) => String(record.key)));
    const records = await readUntil(output, (read) => keysOf(read).size >= sent, 180_000, `all ${sent} keys`, kafka.brokers);
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
