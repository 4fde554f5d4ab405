#!/usr/bin/env node
// Compiles the TypeScript, then places the editor files, locales, icons and the Python
// worker beside the compiled nodes, where Node-RED's registry looks for them.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const nodesOut = path.join(root, "dist", "src", "nodes");

const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", root], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status || 1);

// A compiled file whose source was removed or renamed would still load (a spec would
// still run): dist keeps only what the sources make. dist is not wiped, since a running
// Node-RED may be using it.
function removeStale(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removeStale(file);
      continue;
    }
    const relative = path.relative(path.join(root, "dist"), file);
    const compiled = /\.js(\.map)?$/;
    const source = compiled.test(entry.name) ? relative.replace(compiled, ".ts") : entry.name.endsWith(".py") ? relative : undefined;
    if (source && !fs.existsSync(path.join(root, source))) fs.rmSync(file);
  }
}
for (const tree of ["src", "scripts", "test"]) {
  if (fs.existsSync(path.join(root, "dist", tree))) removeStale(path.join(root, "dist", tree));
}

function copy(from, to) {
  fs.cpSync(path.join(root, from), path.join(root, to), { recursive: true });
}
for (const file of fs.readdirSync(path.join(root, "nodes"))) {
  if (file.endsWith(".html")) copy(path.join("nodes", file), path.join("dist", "src", "nodes", file));
}
copy(path.join("nodes", "locales"), path.relative(root, path.join(nodesOut, "locales")));
copy("icons", path.relative(root, path.join(nodesOut, "icons")));
fs.cpSync(path.join(root, "src", "python"), path.join(root, "dist", "src", "python"), {
  recursive: true,
  filter: (from) => fs.statSync(from).isDirectory() ? !from.endsWith("__pycache__") : from.endsWith(".py"),
});
