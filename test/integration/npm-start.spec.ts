import * as assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { RegistryClient } from "../../src/kafka/schema-registry/registry-client";
import { SchemaDecoder } from "../../src/kafka/schema-registry/serdes";
import { consume } from "../support/kafka";
import { childrenOf, waitFor } from "../support/python";

const BOOTSTRAP = path.join(PACKAGE_ROOT, "scripts", "bootstrap.js");
const SCORING = /scored [1-9]\d* records\/s \(total (\d+)\)/;
const BANNER = /Ctrl-C stops everything/;

/** `npm start` as a real process, with everything it prints. */
interface StartRun {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `node scripts/bootstrap.js start`, as `npm start` does, on `folder` and these ports. */
function npmStart(folder: string, nodeRedPort: number | string, kafkaPort: number, registryPort: number): StartRun {
  const env: NodeJS.ProcessEnv = { ...process.env, DEMO_DIR: folder, NODE_RED_PORT: String(nodeRedPort), KAFKA_PORT: String(kafkaPort), SCHEMA_REGISTRY_PORT: String(registryPort) };
  delete env.KAFKA_BROKERS;
  delete env.SCHEMA_REGISTRY_URL;
  // a light feed; the duration only ends a run the spec failed to stop
  Object.assign(env, { DEMO_RATE: "50", DEMO_DURATION_S: "900" });
  const child = spawn(process.execPath, [BOOTSTRAP, "start"], { cwd: PACKAGE_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, pid: child.pid as number, output: () => output, exited };
}

/** Waits until the run prints something matching after `from` characters of its output; fails at once if it exits. */
async function printed(run: StartRun, pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
  let ended = false;
  void run.exited.then(() => (ended = true));
  let match: RegExpMatchArray | null = null;
  await waitFor(
    () => {
      match = run.output().slice(from).match(pattern);
      if (!match && ended) throw new Error(`npm start exited before printing ${pattern}:\n${run.output()}`);
      return match !== null;
    },
    timeoutMs,
    `npm start to print ${pattern}`,
    250,
  );
  return match as unknown as RegExpMatchArray;
}

/** A free port whose next port is free too: the embedded broker's controller takes it. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const nextFree = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port + 1, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (nextFree) return port;
  }
}

/** The first process under `root` (at any depth) whose command line matches. */
function descendant(root: number, matches: (commandLine: string) => boolean): number {
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of childrenOf(pid)) {
      let commandLine: string;
      try {
        commandLine = fs.readFileSync(`/proc/${child}/cmdline`, "utf8").replace(/\0/g, " ");
      } catch {
        continue; // ended meanwhile
      }
      if (matches(commandLine)) return child;
      queue.push(child);
    }
  }
  throw new Error(`no process under ${root} matches`);
}

/** The pid of a process that has ended. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

async function highWatermark(brokers: string, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "test-client", brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, { high }) => sum + Number(high), 0);
  } finally {
    await admin.disconnect();
  }
}

function readLock(lockFile: string): { pid: number; url?: string; brokers?: string } {
  return JSON.parse(fs.readFileSync(lockFile, "utf8")) as { pid: number; url?: string; brokers?: string };
}

/**
 * One folder (DEMO_DIR) used by several starts in turn, on ports of their own so that
 * the spec runs beside anything else: a start over a stale lock; a second start refused
 * while it runs; its Node-RED killed; a new start on the same data, whose broker is killed.
 */
describe("npm start on a folder (real processes: bootstrap, broker, Node-RED, Python)", function () {
  this.timeout(300_000);
  const runs: StartRun[] = [];
  let folder: string;
  let lockFile: string;
  let nodeRedLog: string;
  let brokerLog: string;
  let stalePid: number;
  let nodeRedPort: number;
  let kafkaPort: number;
  let registryPort: number;
  let first: StartRun;
  let scoredByFirst = 0;

  before(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "npm-start-"));
    lockFile = path.join(folder, ".kafka", "npm-start.lock");
    nodeRedLog = path.join(folder, ".node-red", "node-red.log");
    brokerLog = path.join(folder, ".kafka", "data", "broker.log");
    stalePid = deadPid();
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, JSON.stringify({ pid: stalePid, command: `node ${BOOTSTRAP} start`, startedAt: "2026-01-01T00:00:00.000Z" }));
    fs.mkdirSync(path.dirname(nodeRedLog), { recursive: true });
    fs.writeFileSync(nodeRedLog, "a line from an earlier run\n");
    nodeRedPort = await freePort();
    kafkaPort = await freePortPair();
    registryPort = await freePort();
    first = npmStart(folder, nodeRedPort, kafkaPort, registryPort);
    runs.push(first);
    await printed(first, SCORING, 240_000);
  });

  after(async () => {
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill("SIGTERM");
        await run.exited;
      }
    }
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it("starts over a lock left by a process that is gone, and records itself in the lock", () => {
    assert.match(first.output(), new RegExp(`replaced a stale lock \\(pid ${stalePid}, which is no longer running\\)`));
    const lock = readLock(lockFile);
    assert.equal(lock.pid, first.pid);
    assert.equal(lock.url, `http://127.0.0.1:${nodeRedPort}`);
    assert.equal(lock.brokers, `127.0.0.1:${kafkaPort}`);
  });

  it("refuses a second start on the folder before setting anything up, naming the running one and the ways around it", async () => {
    const second = npmStart(folder, await freePort(), await freePortPair(), await freePort());
    runs.push(second);
    const code = await second.exited;
    const said = second.output();
    assert.equal(code, 1);
    assert.match(said, new RegExp(`npm start is already running in ${folder} \\(pid ${first.pid}`));
    assert.match(said, new RegExp(`Node-RED editor: http://127\\.0\\.0\\.1:${nodeRedPort}`));
    assert.match(said, new RegExp(`kill ${first.pid}`));
    assert.match(said, /DEMO_DIR=\S+ NODE_RED_PORT=\d+ KAFKA_PORT=\d+ npm start/);
    assert.match(said, new RegExp(`KAFKA_BROKERS=127\\.0\\.0\\.1:${kafkaPort} npm start`));
    assert.doesNotMatch(said, /\[setup\]/, "no install, build or setup step ran");
    assert.equal(readLock(lockFile).pid, first.pid);
  });

  it("keeps the first start scoring after the second was refused", async () => {
    const match = await printed(first, SCORING, 60_000, first.output().length);
    scoredByFirst = Number(match[1]);
  });

  it("runs the Schema Registry and the Avro example: predictions in Avro on iris-avro-scored", async () => {
    const registryUrl = `http://127.0.0.1:${registryPort}/apis/ccompat/v7`;
    assert.match(first.output(), new RegExp(`Schema Registry: +${registryUrl.replace(/[.]/g, "\\.")}`));
    const [record] = await consume("iris-avro-scored", 1, 120_000, `127.0.0.1:${kafkaPort}`);
    const decoder = new SchemaDecoder(new RegistryClient({ urls: [registryUrl] }));
    await decoder.prepare([record.value]);
    assert.equal((decoder.decode(record.value).payload as { label: string }).label, "virginica");
  });

  it("exits non-zero when its Node-RED is killed, saying so with the last lines of Node-RED's log, and releases the lock", async () => {
    process.kill(descendant(first.pid, (command) => command.startsWith("node-red")), "SIGKILL");
    assert.equal(await first.exited, 1);
    const said = first.output();
    assert.match(said, /Node-RED exited by itself \(killed by SIGKILL\): npm start stops too/);
    assert.match(said, new RegExp(`the last lines of ${nodeRedLog}:\\n(    .*\\n)*    .*Started flows`));
    assert.equal(fs.existsSync(lockFile), false);
    scoredByFirst = Math.max(scoredByFirst, ...[...said.matchAll(new RegExp(SCORING, "g"))].map((match) => Number(match[1])));
  });

  describe("a new start on the same folder", () => {
    let third: StartRun;
    const brokers = (): string => `127.0.0.1:${kafkaPort}`;
    before(async () => {
      third = npmStart(folder, nodeRedPort, kafkaPort, registryPort);
      runs.push(third);
      await printed(third, BANNER, 240_000);
    });

    it("reads back every record the first start wrote, from a broker log without a CorruptRecordException", async () => {
      for (const topic of ["iris-in", "iris-scored"]) {
        const count = await highWatermark(brokers(), topic);
        const records = await consume(topic, count, 120_000, brokers());
        assert.ok(records.length >= count, `${topic}: ${records.length} of ${count} records read`);
        for (const record of records) {
          const value = JSON.parse(String(record.value)) as { features?: number[]; label?: string };
          if (topic === "iris-in") assert.equal(value.features?.length, 4);
          else assert.equal(typeof value.label, "string");
        }
        if (topic === "iris-scored") assert.ok(records.length >= scoredByFirst, `the ${scoredByFirst} records the first start reported scored are there`);
      }
      assert.doesNotMatch(fs.readFileSync(brokerLog, "utf8"), /CorruptRecordException/);
    });

    it("appends to the logs of the earlier starts, marking each start with its time and pid", () => {
      const marker = (pid: number, what: string): RegExp => new RegExp(`^----- \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${what} started by pid ${pid} -----$`, "m");
      const nodeRed = fs.readFileSync(nodeRedLog, "utf8");
      assert.ok(nodeRed.startsWith("a line from an earlier run\n"));
      const [firstAt, thirdAt] = [first, third].map((run) => nodeRed.search(marker(run.pid, "Node-RED")));
      assert.ok(firstAt > 0 && thirdAt > firstAt, "the first start's log, then the new one's");
      const broker = fs.readFileSync(brokerLog, "utf8");
      const [brokerFirstAt, brokerThirdAt] = [first, third].map((run) => broker.search(marker(run.pid, "Kafka broker")));
      assert.ok(brokerFirstAt >= 0 && brokerThirdAt > brokerFirstAt, "both starts' broker logs, in order");
    });

    it("exits non-zero when its broker is killed, saying so with the last lines of the broker's log", async () => {
      process.kill(descendant(third.pid, (command) => command.startsWith("java ") && command.includes("kafka.Kafka")), "SIGKILL");
      assert.equal(await third.exited, 1);
      const said = third.output();
      assert.match(said, /the Kafka broker exited by itself \(killed by SIGKILL\): npm start stops too/);
      assert.match(said, new RegExp(`the last lines of ${brokerLog}:\\n    `));
      assert.equal(fs.existsSync(lockFile), false);
    });
  });
});

describe("npm start with a setting that is not a number", function () {
  this.timeout(120_000);
  let folder: string;
  before(() => (folder = fs.mkdtempSync(path.join(os.tmpdir(), "npm-start-setting-"))));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  it("says which one in a line, exits with status 2 and leaves no lock", async () => {
    const run = npmStart(folder, "http://localhost:1880", await freePortPair(), await freePort());
    assert.equal(await run.exited, 2);
    assert.match(run.output(), /\[demo\] NODE_RED_PORT must be a port number \(1-65535\), got "http:\/\/localhost:1880"\n/);
    assert.doesNotMatch(run.output(), /^\s+at /m, "no stack trace");
    assert.equal(fs.existsSync(path.join(folder, ".kafka", "npm-start.lock")), false);
  });
});
