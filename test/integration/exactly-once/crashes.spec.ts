import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../scripts/lib/embedded-kafka";
import { startNodeRed, type NodeRedProcess } from "../../../scripts/lib/node-red-process";
import { assertExactlyOnce, exactlyOnceFlow, inputRecords, readAll, runtimePid } from "../../support/exactly-once";
import { consume, createTopic, produce, uniqueName } from "../../support/kafka";
import { waitFor, workersOf, writeHandler } from "../../support/python";

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

  for (const outputMode of ["record", "batch"] as const) it(`Node-RED killed with SIGKILL mid-stream and started again: 0 lost, 0 duplicates; a read_uncommitted reader sees the aborted results (one msg per ${outputMode})`, async () => {
    const names = await topics("eo-kill");
    await produce(names.input, inputRecords(RECORDS));
    // transactions of a second: the kill, half a second after the first one committed, finds one open with results in it
    const first = await start("eo-kill", exactlyOnceFlow({ ...names, transactionMs: 1000, outputMode }));
    await consume(names.output, 1, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
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

  for (const outputMode of ["record", "batch"] as const) it(`dead letters in the transaction: rows the model fails are dead-lettered, across a kill -9, exactly once beside the results (one msg per ${outputMode})`, async () => {
    const names = await topics("eo-dead");
    const deadLetterTopic = uniqueName("eo-dead-letters");
    await createTopic(deadLetterTopic, 1);
    // every record whose number ends in 07 fails (30 of 3000)
    const failing = writeHandler(
      "sum_or_fail",
      "import time\ndef load(p, c):\n    return None\n\ndef predict(m, batch):\n    time.sleep(0.02)\n    for row in batch:\n        if row[0] % 100 == 7:\n            raise ValueError(f'row {row[0]} is refused')\n    return [{'sum': sum(row)} for row in batch]\n",
    );
    const isFailing = (key: number): boolean => key % 100 === 7;
    await produce(names.input, inputRecords(RECORDS));
    const first = await start("eo-dead", exactlyOnceFlow({ ...names, deadLetterTopic, handlerPath: failing, outputMode }));
    await consume(names.output, 300, 60_000);
    process.kill(runtimePid(first), "SIGKILL");
    await first.stop();
    runtimes.splice(runtimes.indexOf(first), 1);
    await start("eo-dead", undefined, first.userDir);

    const expected = Array.from({ length: RECORDS }, (_, key) => key);
    const results = await readAll(names.output, expected.filter((key) => !isFailing(key)).length);
    assert.deepEqual(results.map((record) => Number(String(record.key))).sort((a, b) => a - b), expected.filter((key) => !isFailing(key)), "each good record's result once");
    const deadLetters = await readAll(deadLetterTopic, expected.filter(isFailing).length);
    assert.deepEqual(deadLetters.map((record) => Number(String(record.key))).sort((a, b) => a - b), expected.filter(isFailing), "each failing record dead-lettered once");
    for (const letter of deadLetters) assert.equal(String(letter.value), JSON.stringify([Number(String(letter.key)), 1, 2]), "the original value, byte for byte");
  });

  it("a model error without a dead-letter topic aborts the transaction: Catch is told, the records are processed again, and the output is exactly once", async () => {
    const names = await topics("eo-abort");
    // record 1234 fails the first time it is scored (in its batch, then alone, as the worker tries a failed batch row by row), then scores
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "eo-abort-")), "failures");
    const flaky = writeHandler(
      "fails_once",
      [
        "import os, time",
        "def load(p, c):",
        "    return None",
        "",
        "def predict(m, batch):",
        "    time.sleep(0.02)",
        "    for row in batch:",
        `        if row[0] == 1234 and (not os.path.exists(${JSON.stringify(marker)}) or os.path.getsize(${JSON.stringify(marker)}) < 2):`,
        `            open(${JSON.stringify(marker)}, 'a').write('x')`,
        "            raise ValueError('record 1234 fails this once')",
        "    return [{'sum': sum(row)} for row in batch]",
        "",
      ].join("\n"),
    );
    await produce(names.input, inputRecords(RECORDS));
    const runtime = await start("eo-abort", exactlyOnceFlow({ ...names, handlerPath: flaky }));
    await assertExactlyOnce(names.output, RECORDS);
    assert.ok(fs.existsSync(marker), "record 1234 failed once");
    assert.match(runtime.log(), /record 1234 fails this once/, "Catch got the model's error");
    assert.match(runtime.log(), /Transaction aborted \(ValueError: record 1234 fails this once\): none of its \d+ records' results are written/, "and the abort");
  });
});
