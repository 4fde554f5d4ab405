import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../scripts/lib/embedded-kafka";
import { startNodeRed, type NodeRedProcess } from "../../../scripts/lib/node-red-process";
import { assertExactlyOnce, exactlyOnceFlow, inputRecords, readAll, runtimePid } from "../../support/exactly-once";
import { consume, createTopic, produce, uniqueName } from "../../support/kafka";
import { waitFor, workersOf } from "../../support/python";

const RECORDS = 3000;

/**
 * Exactly-once on the real broker and real Node-RED runtimes (librdkafka engine): a
 * read_committed reader of the output sees every input record's result once, whatever
 * is killed mid-stream.
 */
describe("exactly-once: kafka-in → python-model → kafka-out in Kafka transactions (real runtime, real broker) [librdkafka engine]", function () {
  this.timeout(300_000);
  const runtimes: NodeRedProcess[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  async function start(name: string, flows?: object[], userDir?: string, port?: number): Promise<NodeRedProcess> {
    const dir = userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `node-red-${name}-`));
    const runtime = await startNodeRed({ userDir: dir, port: port ?? (await freePort()), flows, env: { EO_INSTANCE: name } });
    runtimes.push(runtime);
    return runtime;
  }

  async function topics(prefix: string): Promise<{ input: string; output: string; groupId: string }> {
    const names = { input: uniqueName(`${prefix}-in`), output: uniqueName(`${prefix}-out`), groupId: uniqueName(`${prefix}-group`) };
    await createTopic(names.input, 2);
    await createTopic(names.output, 1);
    return names;
  }

  it("Node-RED killed with SIGKILL mid-stream and started again: 0 lost, 0 duplicates; a read_uncommitted reader sees the aborted results", async () => {
    const names = await topics("eo-kill");
    await produce(names.input, inputRecords(RECORDS));
    const first = await start("eo-kill", exactlyOnceFlow(names));
    await consume(names.output, 300, 60_000);
    process.kill(runtimePid(first), "SIGKILL");
    await first.stop();
    runtimes.splice(runtimes.indexOf(first), 1);

    await start("eo-kill", undefined, first.userDir); // the saved flows, as after a crash
    await assertExactlyOnce(names.output, RECORDS);
    // the killed instance's open transaction was aborted, not lost: an uncommitted reader sees its results too
    const everything = await readAll(names.output, RECORDS, { readUncommitted: true });
    const aborted = everything.length - RECORDS;
    console.log(`      (${aborted} results of the aborted transaction seen by read_uncommitted)`);
    assert.ok(aborted > 0, "read_uncommitted sees results that read_committed does not");
  });

  it("a Python worker killed with SIGKILL mid-stream: 0 lost, 0 duplicates", async () => {
    const names = await topics("eo-worker");
    await produce(names.input, inputRecords(RECORDS));
    const runtime = await start("eo-worker", exactlyOnceFlow(names));
    await consume(names.output, 300, 60_000);
    const pid = runtimePid(runtime);
    await waitFor(() => workersOf(pid).length === 1, 10_000, "the worker");
    process.kill(workersOf(pid)[0], "SIGKILL");
    await assertExactlyOnce(names.output, RECORDS);
    assert.match(runtime.log(), /Python worker \d+ exited \(signal SIGKILL\)/, "the worker was killed mid-stream");
  });
});
