#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run bench` and `npm run setup` on a fresh
// clone: it may run before any dependency is installed, so it uses Node built-ins only.
// It installs the npm dependencies when missing, builds, then hands over to the
// compiled TypeScript command in dist/scripts/.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const commands = ["start", "test", "bench", "setup"];

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`[setup] ${cmd} ${args.join(" ")} failed`);
    process.exit(result.status || 1);
  }
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
if (!dependenciesInstalled()) {
  console.log("[setup] installing npm dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}
console.log("[setup] building TypeScript");
run(process.execPath, [path.join(__dirname, "build.js")]);

const entry = require(path.join(root, "dist", "scripts", `${command}.js`));
entry.main(process.argv.slice(3)).then(
  (code) => process.exit(code ?? 0),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
