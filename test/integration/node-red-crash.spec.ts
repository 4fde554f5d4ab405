import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { readExample } from "../../scripts/lib/example-flows";
import { startNodeRed } from "../../scripts/lib/node-red-process";
import { testBrokers } from "../support/kafka";
import { childrenOf, isRunning, waitFor, workersOf } from "../support/python";

/** Python workers must not outlive Node-RED, however it ends. */
describe("Node-RED killed with SIGKILL (real runtime)", function () {
  this.timeout(120_000);

  it("takes its Python workers with it", async () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "node-red-crash-"));
    const flows = readExample("python-function-scoring", testBrokers()).map((node) => (node.type === "python-model" ? { ...node, workers: 2 } : node));
    const nodeRed = await startNodeRed({ userDir, port: await freePort(), flows });
    try {
      await waitFor(() => /model loaded by Python/.test(nodeRed.log()), 60_000, "the model to load");
      // Node-RED renames its process, so find it as the child of the shell that watches it
      const runtime = childrenOf(nodeRed.pid as number).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("node-red"));
      assert.equal(runtime.length, 1, "one Node-RED process");
      await waitFor(() => workersOf(runtime[0]).length === 2, 10_000, "two workers");
      // once their parent is gone the workers belong to another process: follow them by pid
      const workers = workersOf(runtime[0]);
      process.kill(runtime[0], "SIGKILL");
      await waitFor(() => !workers.some(isRunning), 10_000, "the workers to exit after Node-RED died");
    } finally {
      await nodeRed.stop();
    }
  });
});
