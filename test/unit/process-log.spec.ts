import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { lastLines, openProcessLog } from "../../scripts/lib/process-log";

describe("process log (the logs of npm start's broker and Node-RED)", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "process-log-"));
    file = path.join(dir, "node-red.log");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("appends each run to what earlier runs wrote, each run marked with the time and the pid", async () => {
    fs.writeFileSync(file, "the crash of the run before\n");
    const log = openProcessLog(file, "Node-RED");
    const output = new PassThrough();
    const followed = log.follow([output]);
    output.end("this run's first line\n");
    await followed;

    const lines = fs.readFileSync(file, "utf8").split("\n");
    assert.equal(lines[0], "the crash of the run before");
    assert.match(lines[1], new RegExp(`^----- \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z Node-RED started by pid ${process.pid} -----$`));
    assert.equal(lines[2], "this run's first line");
  });

  it("gives as this run's text only what this run wrote", async () => {
    fs.writeFileSync(file, "an earlier run\n");
    const log = openProcessLog(file, "Kafka broker");
    const output = new PassThrough();
    const followed = log.follow([output]);
    output.end("now\n");
    await followed;
    assert.doesNotMatch(log.text(), /an earlier run/);
    assert.match(log.text(), /Kafka broker started by pid \d+ -----\nnow\n$/);
  });

  it("moves a log past the size limit to <file>.1, keeping one older file", async () => {
    const limit = 1000;
    fs.writeFileSync(file, "x".repeat(900) + "\n");
    const log = openProcessLog(file, "Node-RED", limit);
    const output = new PassThrough();
    const followed = log.follow([output]);
    for (let line = 0; line < 40; line++) output.write(`line ${line} ${"y".repeat(50)}\n`);
    output.end();
    await followed;

    assert.deepEqual(fs.readdirSync(dir).sort(), ["node-red.log", "node-red.log.1"]);
    for (const name of fs.readdirSync(dir)) assert.ok(fs.statSync(path.join(dir, name)).size <= limit, `${name} is within the limit`);
    assert.match(fs.readFileSync(file, "utf8"), /line 39 y+\n$/);
    assert.ok(!fs.readFileSync(`${file}.1`, "utf8").includes("x".repeat(900)), "the oldest text was dropped");
  });

  it("collects several streams and settles when all have ended", async () => {
    const log = openProcessLog(file, "Node-RED");
    const [stdout, stderr] = [new PassThrough(), new PassThrough()];
    let settled = false;
    const followed = log.follow([stdout, stderr]).then(() => (settled = true));
    stdout.end("out\n");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, "one stream still open");
    stderr.end("err\n");
    await followed;
    assert.match(log.text(), /out\n/);
    assert.match(log.text(), /err\n/);
  });

  it("gives the last lines of a text without the empty one after the final newline", () => {
    assert.deepEqual(lastLines("a\nb\nc\n", 2), ["b", "c"]);
    assert.deepEqual(lastLines("a", 5), ["a"]);
  });
});
