import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { exampleNames, readExample } from "../../scripts/lib/example-flows";
import { deployFlows, startNodeRed, type NodeRedProcess } from "../../scripts/lib/node-red-process";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { createTopic, findRecord, produce, testBrokers } from "../support/kafka";
import { waitFor } from "../support/python";

const PACKAGE_NAME = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { name: string }).name;

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** The package in a real Node-RED runtime (its own process), as a user installs it. */
describe("the package in a real Node-RED runtime", function () {
  this.timeout(240_000);
  let nodeRed: NodeRedProcess;

  before(async () => {
    nodeRed = await startNodeRed({ userDir: fs.mkdtempSync(path.join(os.tmpdir(), "node-red-examples-")), port: await freePort(), flows: [] });
    await createTopic("iris-in", 3).catch(() => undefined);
    await createTopic("iris-scored", 1).catch(() => undefined);
  });
  after(async () => {
    await nodeRed?.stop();
  });

  it("registers the five node types in one module without errors", async () => {
    const response = await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: "application/json" } });
    const sets = ((await response.json()) as NodeSet[]).filter((set) => set.module === PACKAGE_NAME);
    assert.deepEqual(sets.flatMap((set) => set.types).sort(), ["kafka-broker", "kafka-commit", "kafka-in", "kafka-out", "python-model"]);
    for (const set of sets) {
      assert.equal(set.enabled, true);
      assert.equal(set.err, undefined, `${set.types.join()}: ${set.err}`);
    }
  });

  it("gives the editor one palette category, an icon, an edit dialog and help for each node", async () => {
    const response = await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: "text/html", "Accept-Language": "en-US" } });
    const html = await response.text();
    for (const type of ["kafka-broker", "kafka-commit", "kafka-in", "kafka-out", "python-model"]) {
      const definition = html.split("<script").find((script) => script.includes("registerType") && script.includes(`"${type}"`));
      assert.ok(definition, `${type} is registered in the editor`);
      const category = /category:\s*["']([^"']+)["']/.exec(definition)?.[1];
      if (type === "kafka-broker") {
        assert.equal(category, "config");
      } else {
        assert.equal(category, "Kafka ML", `${type} category`);
        assert.match(definition, /icon:\s*["'][\w-]+\.svg["']/, `${type} icon`);
      }
      assert.match(html, new RegExp(`data-template-name="${type}"`), `${type} edit dialog`);
      assert.match(html, new RegExp(`data-help-name="${type}"`), `${type} help`);
    }
    for (const icon of ["kafka.svg", "python-model.svg"]) {
      const served = await fetch(`${nodeRed.url}/icons/${PACKAGE_NAME}/${icon}`);
      assert.equal(served.status, 200, icon);
      assert.match(served.headers.get("content-type") ?? "", /svg/);
    }
  });

  it("lists every example flow under Import > Examples, as stored in examples/flows", async () => {
    const names = exampleNames();
    assert.ok(names.includes("keras-iris-scoring") && names.includes("python-function-scoring"));
    const menu = await fetch(`${nodeRed.url}/library/examples/flows/${PACKAGE_NAME}/flows`);
    assert.deepEqual(((await menu.json()) as { fn: string }[]).map((entry) => entry.fn).sort(), names);
    for (const name of names) {
      const response = await fetch(`${nodeRed.url}/library/examples/flows/${PACKAGE_NAME}/flows/${name}`);
      assert.equal(response.status, 200, `example ${name}`);
      assert.deepEqual(await response.json(), readExample(name));
    }
  });

  for (const name of exampleNames()) {
    it(`deploys the example "${name}" and its model loads with no error logged`, async () => {
      const logBefore = nodeRed.log().length;
      const newLog = (): string => nodeRed.log().slice(logBefore);
      await deployFlows(nodeRed.url, readExample(name, testBrokers()));
      await waitFor(() => /model loaded by Python/.test(newLog()), 120_000, `the model of ${name} to load`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.doesNotMatch(newLog(), /\[error\]/);
    });
  }

  it("scores a record from iris-in onto iris-scored with the Keras example deployed", async () => {
    await deployFlows(nodeRed.url, readExample("keras-iris-scoring", testBrokers()));
    await waitFor(() => /model loaded by Python/.test(nodeRed.log().split("Started flows").pop() ?? ""), 120_000, "the Keras model to load");
    // the example reads from the latest offset: keep producing until its consumer has joined
    const prefix = `example-${Date.now()}-`;
    let sent = 0;
    const feed = setInterval(() => void produce("iris-in", [{ key: `${prefix}${sent++}`, value: JSON.stringify({ features: [7.7, 2.6, 6.9, 2.3] }) }]), 1000);
    try {
      const scored = await findRecord("iris-scored", (key) => key.startsWith(prefix));
      assert.equal((JSON.parse(String(scored.value)) as { label: string }).label, "virginica");
    } finally {
      clearInterval(feed);
    }
  });
});
