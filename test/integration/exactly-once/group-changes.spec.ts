import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../scripts/lib/embedded-kafka";
import { startNodeRed, type NodeRedProcess } from "../../../scripts/lib/node-red-process";
import { assertExactlyOnce, exactlyOnceFlow, inputRecords, runtimePid, type FlowOptions } from "../../support/exactly-once";
import { consume, createTopic, groupMembers, produce, uniqueName } from "../../support/kafka";
import { waitFor } from "../../support/python";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Two Node-RED runtimes in one consumer group, exactly-once: members joining, leaving, and one frozen past its session. */
describe("exactly-once while the group changes (real runtimes, real broker) [librdkafka engine]", function () {
  this.timeout(300_000);
  const runtimes: NodeRedProcess[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  async function start(name: string, flows: object[]): Promise<NodeRedProcess> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `node-red-${name}-`));
    const runtime = await startNodeRed({ userDir, port: await freePort(), flows, env: { EO_INSTANCE: name } });
    runtimes.push(runtime);
    return runtime;
  }

  async function setUp(prefix: string, settings: Partial<FlowOptions> = {}): Promise<{ names: { input: string; output: string; groupId: string }; flows: object[] }> {
    const names = { input: uniqueName(`${prefix}-in`), output: uniqueName(`${prefix}-out`), groupId: uniqueName(`${prefix}-group`) };
    await createTopic(names.input, 2);
    await createTopic(names.output, 1);
    return { names, flows: exactlyOnceFlow({ ...names, ...settings }) };
  }

  /** Until the group is stable with exactly these client ids, each holding a partition. */
  async function groupIs(groupId: string, topic: string, clientIds: string[], timeoutMs: number): Promise<void> {
    await waitFor(
      async () => {
        const group = await groupMembers(groupId, topic);
        const ids = group.members.map((member) => member.clientId).sort();
        return group.state === "Stable" && JSON.stringify(ids) === JSON.stringify(clientIds) && group.members.every((member) => member.partitions.length > 0);
      },
      timeoutMs,
      `the group to be ${clientIds.join(" and ")}`,
      250,
    );
  }

  it("a second Node-RED joins mid-stream (rebalance) and later leaves: 0 lost, 0 duplicates", async () => {
    const records = 8000;
    const { names, flows } = await setUp("eo-scale");
    await produce(names.input, inputRecords(records));
    await start("eo-scale-a", flows);
    await consume(names.output, 300, 60_000);
    const second = await start("eo-scale-b", flows);
    await groupIs(names.groupId, names.input, ["eo-scale-a", "eo-scale-b"], 90_000);
    await sleep(3000); // both score for a while
    await second.stop(); // leaves the group: the first takes its partition
    runtimes.splice(runtimes.indexOf(second), 1);
    await assertExactlyOnce(names.output, records);
  });

  it("a zombie: a Node-RED frozen (SIGSTOP) past its session while the other takes its partition, then woken: its transaction is refused (fenced), and the output is exactly once", async () => {
    // transactions of 5 s: whenever it is frozen, the open one almost surely holds results, which the broker aborts after 20 s
    const { names, flows } = await setUp("eo-zombie", { transactionMs: 5000, maxUnsettled: 5000 });
    // a steady feed for the whole test: 100 records every 200 ms
    let sent = 0;
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        await produce(names.input, inputRecords(100, sent));
        sent += 100;
        await sleep(200);
      }
    })();
    try {
      const zombie = await start("eo-zombie-a", flows);
      await start("eo-zombie-b", flows);
      await groupIs(names.groupId, names.input, ["eo-zombie-a", "eo-zombie-b"], 90_000);
      await sleep(2000);
      const pid = runtimePid(zombie);
      process.kill(pid, "SIGSTOP");
      try {
        // the group drops the frozen member once its session (45 s) has passed, and the other takes its partition
        await groupIs(names.groupId, names.input, ["eo-zombie-b"], 120_000);
        await sleep(3000);
      } finally {
        process.kill(pid, "SIGCONT");
      }
      // the broker has aborted its open transaction (20 s timeout) and bumped its producer's epoch: the woken one is refused
      await waitFor(() => /\[kafka-in:eo-in\] The broker refused to end this node's transaction/.test(zombie.log()), 60_000, "the woken Node-RED to be fenced");
      const said = zombie.log().match(/The broker refused to end this node's transaction \([^\n]*|Transaction aborted \([^)]*\)/g) ?? [];
      console.log(`      (the woken one said: ${JSON.stringify(said.slice(0, 3).map((line) => line.slice(0, 160)))})`);
      await groupIs(names.groupId, names.input, ["eo-zombie-a", "eo-zombie-b"], 90_000);
      await sleep(3000);
    } finally {
      feeding = false;
      await feed;
    }
    await assertExactlyOnce(names.output, sent);
    assert.ok(sent > 0);
  });
});
