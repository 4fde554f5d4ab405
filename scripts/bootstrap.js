#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run bench` and `npm run setup` on a fresh
// clone: it may run before any dependency is installed, so it uses Node built-ins only.
// `npm start` first takes its folder's lock, so that a second start on a folder in use
// stops before it touches anything. Then it installs the npm dependencies when missing,
// builds, and hands over to the compiled TypeScript command in dist/scripts/.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { alreadyRunning, lockStart, startFolder } = require("./lib/start-lock");

const root = path.resolve(__dirname, "..");
const commands = ["start", "test", "bench", "setup"];

function run(cmd, args, env = process.env) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  if (result.status !== 0) {
    console.error(`[setup] ${cmd} ${args.join(" ")} failed`);
    process.exit(result.status || 1);
  }
}

/** The start's lock on its folder; exits when another start holds it. */
function lockFolder() {
  const folder = startFolder(root);
  let outcome;
  try {
    outcome = lockStart(folder);
  } catch (error) {
    console.error(`[start] cannot use the folder ${folder}${process.env.DEMO_DIR ? " (DEMO_DIR)" : ""}: ${error.message}`);
    process.exit(1);
  }
  if (outcome.holder) {
    console.error(alreadyRunning(outcome.holder, folder));
    process.exit(1);
  }
  if (outcome.replaced !== undefined) {
    const whose = outcome.replaced ? `pid ${outcome.replaced.pid}, which is no longer running` : "unreadable";
    console.log(`[start] replaced a stale lock (${whose}): ${outcome.lock.file}`);
  }
  return outcome.lock;
}

function dependenciesInstalled() {
  const marker = path.join(root, "node_modules", ".package-lock.json");
  if (!fs.existsSync(marker)) return false;
  const lock = path.join(root, "package-lock.json");
  return !fs.existsSync(lock) || fs.statSync(lock).mtimeMs <= fs.statSync(marker).mtimeMs;
}

const command = process.argv[2];
if (!commands.includes(command)) {
  console.error(`usage: node scripts/bootstrap.js <${commands.join("|")}> [args]`);
  process.exit(2);
}
const startLock = command === "start" ? lockFolder() : undefined;
if (!dependenciesInstalled()) {
  console.log("[setup] installing npm dependencies (npm ci; the librdkafka engine is built from source: a minute)");
  // the Confluent client's prebuilt binary and its default build's sources come from hosts
  // this project cannot count on: it builds against the system's libraries instead (setup
  // installs them, and builds it again, when this build could not find them)
  run("npm", ["ci", "--no-audit", "--no-fund"], { ...process.env, CKJS_LINKING: "dynamic" });
}
console.log("[setup] building TypeScript");
run(process.execPath, [path.join(__dirname, "build.js")]);

const entry = require(path.join(root, "dist", "scripts", `${command}.js`));
entry.main(process.argv.slice(3), startLock).then(
  (code) => process.exit(code ?? 0),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
