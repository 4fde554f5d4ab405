// The lock that lets one `npm start` at a time use a folder's broker data and Node-RED
// user directory: two brokers on one data folder corrupt it. bootstrap.js takes it before
// it installs or builds anything, so this file uses Node built-ins only (types in
// start-lock.d.ts). A lock whose process is gone, or whose pid now runs another command,
// is stale and replaced.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const LOCK_FILE = path.join(".kafka", "npm-start.lock");

/** Where npm start keeps its state: DEMO_DIR (relative to where npm was run), else the project folder. */
function startFolder(root, env = process.env) {
  if (!env.DEMO_DIR) return root;
  return path.resolve(env.INIT_CWD || process.cwd(), env.DEMO_DIR);
}

/** A process's command line as /proc shows it, or undefined where there is no such process (or no /proc). */
function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM"; // alive, and someone else's
  }
}

/** Whether the start a lock names still runs: its pid is alive and runs the command it ran then. */
function holderRuns(holder) {
  if (!Number.isInteger(holder.pid) || holder.pid <= 0 || !alive(holder.pid)) return false;
  if (!fs.existsSync("/proc/self/cmdline")) return true; // no /proc: a live pid is all there is to go by
  return commandLine(holder.pid) === holder.command;
}

/** The lock's holder and the file's inode; holder is null for a file that is not a lock we wrote. */
function inspect(file) {
  let text;
  let ino;
  try {
    ino = fs.statSync(file).ino;
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return undefined; // released meanwhile
    throw error;
  }
  try {
    const holder = JSON.parse(text);
    return { holder: holder && typeof holder === "object" ? holder : null, ino };
  } catch {
    return { holder: null, ino };
  }
}

function writeTemporary(file, holder) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(holder, null, 2)}\n`);
  return temporary;
}

/**
 * Creates the lock only where none exists. link(2) fails with EEXIST as atomically as
 * open(O_EXCL), and the lock appears with its whole content: no other start can read a
 * half-written one and take it for stale.
 */
function place(file, holder) {
  const temporary = writeTemporary(file, holder);
  try {
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if (error.code === "EEXIST") return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** Removes a stale lock, but not a fresh one another start put in its place since we read it. */
function removeStale(file, staleIno) {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if (error.code === "ENOENT") return;
    throw error;
  }
  if (fs.statSync(aside).ino !== staleIno) {
    try {
      fs.linkSync(aside, file);
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
  }
  fs.rmSync(aside, { force: true });
}

function releaseOnExit(file) {
  process.on("exit", () => {
    const found = inspect(file);
    if (found && found.holder && found.holder.pid === process.pid) fs.rmSync(file, { force: true });
  });
}

/**
 * Takes the lock of `folder` for this process until it ends. Returns { lock, replaced }
 * (replaced: the stale holder, or null for an unreadable lock file, when there was one),
 * or { holder } when a running start holds it.
 */
function lockStart(folder) {
  const file = path.join(folder, LOCK_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const own = { pid: process.pid, command: commandLine(process.pid) || process.argv.join(" "), startedAt: new Date().toISOString() };
  let replaced;
  // each round either takes the lock, finds it held, or removes a stale one; a few rounds
  // cover starts racing to replace the same stale lock
  for (let round = 0; round < 5; round++) {
    if (place(file, own)) {
      releaseOnExit(file);
      return { lock: ownLock(file, folder, own), replaced };
    }
    const found = inspect(file);
    if (!found) continue;
    if (found.holder && holderRuns(found.holder)) return { holder: found.holder };
    removeStale(file, found.ino);
    replaced = found.holder;
  }
  throw new Error(`could not take the lock ${file}: other starts keep replacing it`);
}

function ownLock(file, folder, own) {
  return {
    file,
    folder,
    record(details) {
      Object.assign(own, details);
      fs.renameSync(writeTemporary(file, own), file); // readers see the old content or the new, never part
    },
  };
}

/** What a second start says when it finds the folder taken. */
function alreadyRunning(holder, folder) {
  const serving = holder.url
    ? [`  Node-RED editor: ${holder.url}`, `  Kafka brokers:   ${holder.brokers}`]
    : ["  (still setting up: no editor yet)"];
  const nodeRedPort = (holder.nodeRedPort || 1880) + 1;
  const kafkaPort = (holder.kafkaPort || 9092) + 2; // its controller takes the port after it
  return [
    `[start] npm start is already running in ${folder} (pid ${holder.pid}, since ${holder.startedAt}):`,
    ...serving,
    "A second start here would open the same broker data and Node-RED user directory, so this one stops before touching anything.",
    `Stop the running one with Ctrl-C in its terminal, or: kill ${holder.pid}`,
    "Or run another one beside it, in a folder of its own (DEMO_DIR) and on free ports:",
    `  DEMO_DIR=../demo-2 NODE_RED_PORT=${nodeRedPort} KAFKA_PORT=${kafkaPort} npm start`,
    ...(holder.brokers ? [`  DEMO_DIR=../demo-2 NODE_RED_PORT=${nodeRedPort} KAFKA_BROKERS=${holder.brokers} npm start   (sharing its broker)`] : []),
  ].join("\n");
}

module.exports = { startFolder, lockStart, alreadyRunning };
