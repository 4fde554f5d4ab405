import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/package-paths";

// plain JavaScript, because bootstrap.js takes the lock before anything is built: loaded from the source tree
type StartLockModule = typeof import("../../scripts/lib/start-lock");

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("the npm start lock on a folder", () => {
  let lockModule: StartLockModule;
  let folder: string;
  const lockFile = (): string => path.join(folder, ".kafka", "npm-start.lock");
  const writeLock = (holder: object | string): void => {
    fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
    fs.writeFileSync(lockFile(), typeof holder === "string" ? holder : JSON.stringify(holder));
  };

  before(async () => {
    lockModule = (await import(path.join(PACKAGE_ROOT, "scripts", "lib", "start-lock.js"))) as StartLockModule;
  });
  beforeEach(() => (folder = fs.mkdtempSync(path.join(os.tmpdir(), "start-lock-"))));
  afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

  it("is taken where there is none, recording this process and what it serves", () => {
    const outcome = lockModule.lockStart(folder);
    assert.ok("lock" in outcome);
    assert.equal(outcome.replaced, undefined);
    outcome.lock.record({ url: "http://127.0.0.1:1881", brokers: "127.0.0.1:9094", nodeRedPort: 1881, kafkaPort: 9094 });
    const holder = JSON.parse(fs.readFileSync(lockFile(), "utf8")) as Record<string, unknown>;
    assert.equal(holder.pid, process.pid);
    assert.equal(holder.url, "http://127.0.0.1:1881");
    assert.equal(holder.brokers, "127.0.0.1:9094");
    assert.deepEqual(fs.readdirSync(path.dirname(lockFile())), ["npm-start.lock"], "no temporary file left");
  });

  it("refuses a second start while the first runs, naming its pid, URL and brokers", () => {
    const first = lockModule.lockStart(folder);
    assert.ok("lock" in first);
    first.lock.record({ url: "http://127.0.0.1:1881", brokers: "127.0.0.1:9094", nodeRedPort: 1881, kafkaPort: 9094 });
    const second = lockModule.lockStart(folder);
    assert.ok("holder" in second);
    assert.equal(second.holder.pid, process.pid);
    const message = lockModule.alreadyRunning(second.holder, folder);
    assert.match(message, new RegExp(`already running in ${folder} \\(pid ${process.pid}`));
    assert.match(message, /Node-RED editor: http:\/\/127\.0\.0\.1:1881/);
    assert.match(message, /Kafka brokers: {3}127\.0\.0\.1:9094/);
    assert.match(message, new RegExp(`kill ${process.pid}`));
    assert.match(message, /DEMO_DIR=\S+ NODE_RED_PORT=1882 KAFKA_PORT=9096 npm start/);
    assert.match(message, /KAFKA_BROKERS=127\.0\.0\.1:9094 npm start/);
  });

  it("replaces a lock whose process is gone", () => {
    const pid = deadPid();
    writeLock({ pid, command: "node scripts/bootstrap.js start", startedAt: "2026-01-01T00:00:00.000Z" });
    const outcome = lockModule.lockStart(folder);
    assert.ok("lock" in outcome);
    assert.equal(outcome.replaced?.pid, pid);
    assert.equal((JSON.parse(fs.readFileSync(lockFile(), "utf8")) as { pid: number }).pid, process.pid);
  });

  it("replaces a lock whose pid now runs another command", () => {
    // this very process is alive, but it is not the command the lock names
    writeLock({ pid: process.pid, command: "node scripts/bootstrap.js start", startedAt: "2026-01-01T00:00:00.000Z" });
    const outcome = lockModule.lockStart(folder);
    assert.ok("lock" in outcome);
    assert.equal(outcome.replaced?.command, "node scripts/bootstrap.js start");
  });

  it("replaces a lock file it cannot read", () => {
    writeLock("not a lock");
    const outcome = lockModule.lockStart(folder);
    assert.ok("lock" in outcome);
    assert.equal(outcome.replaced, null);
  });

  it("says 'still setting up' for a start that has not yet recorded its URL", () => {
    const message = lockModule.alreadyRunning({ pid: 42, command: "node scripts/bootstrap.js start", startedAt: "2026-01-01T00:00:00.000Z" }, folder);
    assert.match(message, /still setting up/);
    assert.match(message, /NODE_RED_PORT=1881 KAFKA_PORT=9094/);
  });

  it("lives in DEMO_DIR, read relative to where npm was run, else in the project folder", () => {
    assert.equal(lockModule.startFolder("/project", {}), "/project");
    assert.equal(lockModule.startFolder("/project", { DEMO_DIR: "../demo-2", INIT_CWD: "/home/me/project" }), "/home/me/demo-2");
    assert.equal(lockModule.startFolder("/project", { DEMO_DIR: "/srv/demo" }), "/srv/demo");
  });
});
