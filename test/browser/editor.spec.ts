import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Locator } from "playwright-core";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { startSchemaRegistry, type EmbeddedSchemaRegistry } from "../../scripts/lib/embedded-schema-registry";
import { exampleNames, exampleTopics, readExample, type FlowNode } from "../../scripts/lib/example-flows";
import { startNodeRed, type NodeRedProcess } from "../../scripts/lib/node-red-process";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { launchChromium, type Browser } from "../support/browser";
import { createTopic, produce, testBrokers, uniqueName } from "../support/kafka";
import { normalised, NodeRedEditor } from "../support/node-red-editor";
import { HOLDOUT, waitFor } from "../support/python";

const PACKAGE_NAME = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { name: string }).name;
/**
 * The README's screenshots are committed; UPDATE_SCREENSHOTS=1 rewrites them. Other runs
 * take them into a scratch folder, so that a test run leaves the working tree as it was.
 */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === "1";
const SCREENSHOTS = UPDATE_SCREENSHOTS ? path.join(PACKAGE_ROOT, "docs", "screenshots") : path.join(os.tmpdir(), `editor-screenshots-${process.pid}`);
const SPECIES = ["setosa", "versicolor", "virginica"];

function nodeOfType(flow: FlowNode[], type: string): FlowNode {
  const node = flow.find((candidate) => candidate.type === type);
  if (!node) throw new Error(`the example has no ${type} node`);
  return node;
}

/** The package as a person meets it in the Node-RED editor, in a real Chromium. */
describe("the editor in Chromium", function () {
  this.timeout(300_000);
  let nodeRed: NodeRedProcess;
  let browser: Browser;
  let editor: NodeRedEditor;
  /** For the examples with a schema-registry node, as `npm start` runs one. */
  let registry: EmbeddedSchemaRegistry;

  before(async () => {
    registry = await startSchemaRegistry({ logFile: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "registry-editor-")), "registry.log") });
    nodeRed = await startNodeRed({ userDir: fs.mkdtempSync(path.join(os.tmpdir(), "node-red-editor-")), port: await freePort(), flows: [] });
    // as `npm start` does; another spec on the same broker may have made them already
    for (const topic of exampleTopics()) await createTopic(topic, topic === "iris-in" ? 3 : 1).catch(() => undefined);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    editor = await NodeRedEditor.open(browser.page, nodeRed.url);
  });
  afterEach(async function () {
    // a test that failed with a dialog open would leave every later one behind the editor's shade
    if (this.currentTest?.state !== "failed" || !editor) return;
    const cancel = editor.page.locator(".red-ui-tray #node-dialog-cancel, .red-ui-tray #node-config-dialog-cancel");
    for (let attempt = 0; attempt < 5 && (await cancel.count()) > 0; attempt++) await cancel.last().click({ timeout: 5_000 }).catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await nodeRed?.stop();
    await registry?.stop();
    if (registry) fs.rmSync(path.dirname(registry.logFile), { recursive: true, force: true });
    if (nodeRed) fs.rmSync(nodeRed.userDir, { recursive: true, force: true });
    if (!UPDATE_SCREENSHOTS) fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  });

  it("shows kafka in, kafka out, kafka commit and python model in the Kafka ML palette category, with their icons and tooltips", async () => {
    await editor.showOnlyPaletteCategory("Kafka ML");
    const category = editor.paletteCategory("Kafka ML");
    const entries = category.locator(".red-ui-palette-node");
    assert.deepEqual(
      await entries.evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-palette-type"))),
      ["kafka-in", "kafka-out", "kafka-commit", "python-model"],
    );
    assert.deepEqual((await entries.allTextContents()).map(normalised), ["kafka in", "kafka out", "kafka commit", "python model"]);
    assert.equal(await editor.paletteEntry("kafka-broker").count(), 0, "the config node stays out of the palette");
    for (const icon of await category.locator(".red-ui-palette-icon").all()) {
      assert.match((await icon.getAttribute("style")) ?? "", new RegExp(`icons/${PACKAGE_NAME}/[\\w-]+\\.svg`));
    }
    // the tooltip is the label, then the first paragraph of the node's help
    for (const type of ["kafka-in", "kafka-out", "kafka-commit", "python-model"]) {
      const entry = editor.paletteEntry(type);
      await entry.hover();
      const tooltip = editor.page.locator(".red-ui-popover:visible").filter({ hasText: normalised(await entry.textContent()) });
      await tooltip.waitFor();
      const summary = normalised(await tooltip.locator("p").nth(1).textContent());
      assert.ok(summary.length > 20 && !/No information available/.test(summary), `${type} tooltip: ${summary}`);
    }
    await editor.page.screenshot({ path: path.join(SCREENSHOTS, "palette.png") });
  });

  it("adds a python model dragged from the palette to the workspace, and opens its edit dialog on double-click", async () => {
    assert.equal(await editor.workspaceNodes().count(), 0);
    await editor.dragFromPalette("python-model", { x: 300, y: 200 });
    await waitFor(async () => (await editor.workspaceNodes().count()) === 1, 10_000, "the dropped node");
    const label = normalised(await editor.paletteEntry("python-model").textContent());
    const node = editor.workspaceNode(label);
    assert.equal(await node.count(), 1, `a node labelled "${label}" on the workspace`);
    const tray = await editor.editNode(node);
    assert.equal(normalised(await tray.locator(".red-ui-tray-titlebar").textContent()), "Edit python model node");
  });

  it("flags a blank model file and a batch size of 0 in the python model dialog, and clears the flag once they are valid", async () => {
    const modelFile = editor.page.locator("#node-input-modelPath");
    const batchSize = editor.page.locator("#node-input-batchSize");
    const flagged = async (field: typeof modelFile): Promise<boolean> => ((await field.getAttribute("class")) ?? "").split(/\s+/).includes("input-error");
    // typed key by key: the editor validates a field on its keyup and change events; typed
    // again if the field does not hold the text (keys sent while the tray still opens are lost)
    const type = async (field: typeof modelFile, text: string): Promise<void> => {
      await waitFor(
        async () => {
          await field.fill("");
          await field.pressSequentially(text);
          return (await field.inputValue()) === text;
        },
        10_000,
        `"${text}" typed into the field`,
      );
    };

    assert.equal(await modelFile.inputValue(), "");
    assert.equal(await flagged(modelFile), true, "a new node has no model file");
    await type(modelFile, "models/iris/iris_mlp.keras");
    await waitFor(async () => !(await flagged(modelFile)), 5_000, "the model file's flag to clear");

    assert.equal(await flagged(batchSize), false, "the default batch size is valid");
    await type(batchSize, "0");
    await waitFor(() => flagged(batchSize), 5_000, "batch size 0 to be flagged");
    await editor.page.screenshot({ path: path.join(SCREENSHOTS, "python-model-dialog.png") });
    await type(batchSize, "64");
    await waitFor(async () => !(await flagged(batchSize)), 5_000, "batch size 64 to be accepted");

    // the dialog's Delete takes the node away again, so that the examples deploy alone
    await editor.page.locator("#node-dialog-delete").click();
    await waitFor(async () => (await editor.workspaceNodes().count()) === 0, 10_000, "the node to be deleted");
  });

  // The examples name the broker 127.0.0.1:9092, where `npm start` runs Kafka; the test
  // broker is on a free port. Each example is imported as it is stored, through the
  // Import menu, and its "local kafka" broker is then pointed at the test broker in the
  // broker's own dialog, as a person with a cluster elsewhere does (the example's
  // comment says so). Rewriting the file or the runtime's settings instead would test a
  // flow no user imports.
  for (const name of exampleNames()) {
    it(`imports the example "${name}" with Import > Examples, points its broker at the test broker, and deploys it without an error`, async () => {
      const flow = readExample(name);
      const tab = nodeOfType(flow, "tab");
      const model = nodeOfType(flow, "python-model");
      const kafkaIn = nodeOfType(flow, "kafka-in");

      await editor.importExample([PACKAGE_NAME, "flows", name]);
      await editor.showFlow(String(tab.label));
      assert.equal(await editor.workspaceNodes().count(), flow.filter((node) => node.z === tab.id).length, "every node of the example is on its tab");

      await editor.editNode(editor.workspaceNodeWithId(kafkaIn.id));
      const broker = await editor.editConfigNodeOf("broker");
      const brokers = broker.locator("#node-config-input-brokers");
      assert.equal(await brokers.inputValue(), "127.0.0.1:9092");
      await brokers.fill(testBrokers());
      await broker.locator("#node-config-dialog-ok").click();
      if (flow.some((node) => node.type === "schema-registry")) {
        // likewise its registry, named where `npm start` runs one
        const registryDialog = await editor.editConfigNodeOf("registry");
        const urls = registryDialog.locator("#node-config-input-urls");
        assert.equal(await urls.inputValue(), "http://127.0.0.1:8081/apis/ccompat/v7");
        await urls.fill(registry.url);
        await registryDialog.locator("#node-config-dialog-ok").click();
      }
      await editor.page.locator("#node-dialog-ok").click();

      const shownBefore = (await editor.notifications()).length;
      await editor.deploy();
      // green: the model has loaded (an example that feeds itself may be scoring already);
      // the errors example feeds it records that fail on purpose, and its status says so
      const modelNode = editor.workspaceNodeWithId(model.id);
      await editor.greenStatus(modelNode).or(editor.statusSaying(modelNode, /failed/)).waitFor({ timeout: 120_000 });
      await editor.greenStatus(editor.workspaceNodeWithId(kafkaIn.id)).waitFor({ timeout: 60_000 });
      const shown = (await editor.notifications()).slice(shownBefore);
      assert.ok(
        shown.some((notification) => notification.type === "success" && /Successfully deployed/.test(notification.text)),
        JSON.stringify(shown),
      );
      assert.deepEqual(
        shown.filter((notification) => notification.type === "error" || notification.type === "warning"),
        [],
      );
    });
  }

  it("shows OAuth's settings in the schema registry and kafka broker dialogs of the Avro example, and tests the registry connection", async () => {
    const flow = readExample("avro-schema-registry-scoring");
    await editor.showFlow(String(nodeOfType(flow, "tab").label));
    await editor.editNode(editor.workspaceNodeWithId(nodeOfType(flow, "kafka-in").id));
    const flagged = async (field: Locator): Promise<boolean> => ((await field.getAttribute("class")) ?? "").split(/\s+/).includes("input-error");

    const registryDialog = await editor.editConfigNodeOf("registry");
    const result = registryDialog.locator("#schema-registry-test-result");
    await registryDialog.locator("#schema-registry-test").click();
    await waitFor(async () => /Connected: the registry holds \d+ subjects/.test((await result.textContent()) ?? ""), 30_000, "the connection test's result");
    const auth = registryDialog.locator("#node-config-input-auth");
    await auth.selectOption("oauth");
    assert.equal(await registryDialog.locator("#node-config-input-oauthTokenEndpoint").isVisible(), true);
    assert.equal(await registryDialog.locator("#node-config-input-username").isVisible(), false);
    await registryDialog.locator("#node-config-input-oauthTokenEndpoint").fill("https://login.example.com/oauth2/token");
    await registryDialog.locator("#node-config-input-oauthClientId").fill("scoring-flow");
    await registryDialog.locator("#node-config-input-oauthClientSecret").fill("secret");
    await registryDialog.locator("#node-config-input-oauthLogicalCluster").fill("lsrc-12345");
    await registryDialog.locator("#node-config-input-oauthIdentityPool").fill("pool-6789");
    await editor.page.screenshot({ path: path.join(SCREENSHOTS, "schema-registry-dialog.png") });
    await registryDialog.locator("#node-config-dialog-cancel").click();

    const broker = await editor.editConfigNodeOf("broker");
    await broker.locator("#node-config-input-saslMechanism").selectOption("oauthbearer");
    const endpoint = broker.locator("#node-config-input-oauthTokenEndpoint");
    assert.equal(await endpoint.isVisible(), true);
    assert.equal(await broker.locator("#node-config-input-username").isVisible(), false, "no username for OAUTHBEARER");
    // the editor validates a field on its change and keyup events
    await endpoint.fill("login.example.com/token");
    await endpoint.dispatchEvent("change");
    await waitFor(() => flagged(endpoint), 5_000, "a token endpoint that is not a URL to be flagged");
    await endpoint.fill("https://login.example.com/oauth2/token");
    await endpoint.dispatchEvent("change");
    await waitFor(async () => !(await flagged(endpoint)), 5_000, "the token endpoint's flag to clear");
    await broker.locator("#node-config-input-oauthClientId").fill("scoring-flow");
    await broker.locator("#node-config-input-oauthClientSecret").fill("secret");
    await broker.locator("#node-config-input-oauthScope").fill("kafka");
    await broker.locator("#node-config-input-oauthExtensions").fill("logicalCluster=lkc-12345,identityPoolId=pool-6789");
    await editor.page.screenshot({ path: path.join(SCREENSHOTS, "kafka-broker-oauth-dialog.png") });
    // nothing is kept: the example stays as it is
    await broker.locator("#node-config-dialog-cancel").click();
    await editor.page.locator("#node-dialog-cancel").click();
  });

  it("offers exactly-once in the kafka in dialog, with its tip and transaction interval, and hides the Unwritable setting it does not use", async () => {
    const flow = readExample("keras-iris-scoring");
    await editor.showFlow(String(nodeOfType(flow, "tab").label));
    const tray = await editor.editNode(editor.workspaceNodeWithId(nodeOfType(flow, "kafka-in").id));
    const mode = tray.locator("#node-input-deliveryMode");
    const tip = tray.locator(".kafka-in-tip-exactly-once");
    const unwritable = tray.locator(".kafka-in-row-refusalPolicy").first();
    assert.equal(await mode.inputValue(), "at-least-once");
    assert.equal(await tip.isVisible(), false);
    assert.equal(await unwritable.isVisible(), true);
    assert.equal(await tray.locator("#node-input-transactionMs").isVisible(), false);
    await mode.selectOption("exactly-once");
    assert.equal(await tip.isVisible(), true);
    assert.match((await tip.textContent()) ?? "", /committed together in a Kafka transaction/);
    assert.equal(await unwritable.isVisible(), false, "a refused write aborts the transaction instead");
    const interval = tray.locator("#node-input-transactionMs");
    assert.equal(await interval.isVisible(), true);
    assert.equal(await interval.inputValue(), "100", "a transaction every 100 ms by default");
    await editor.page.screenshot({ path: path.join(SCREENSHOTS, "kafka-in-exactly-once-dialog.png") });
    // nothing is kept: the example stays as it is
    await editor.page.locator("#node-dialog-cancel").click();
  });

  it("checks the Keras example's model from its dialog: shapes and labels, then the exact error for a missing file", async () => {
    const flow = readExample("keras-iris-scoring");
    await editor.showFlow(String(nodeOfType(flow, "tab").label));
    const tray = await editor.editNode(editor.workspaceNodeWithId(nodeOfType(flow, "python-model").id));
    const result = tray.locator("#python-model-check-result");
    await tray.locator("#python-model-check").click();
    await waitFor(async () => /Per record/.test((await result.textContent()) ?? ""), 120_000, "the check's result");
    const shown = (await result.textContent()) ?? "";
    assert.match(shown, /Loaded by Python 3\.\d+.*\. Per record: input shape \[4\], output shape \[3\]/);
    assert.match(shown, /Labels: setosa, versicolor, virginica/);

    const missing = "models/iris/no-such-model.keras";
    await tray.locator("#node-input-modelPath").fill(missing);
    await tray.locator("#python-model-check").click();
    await waitFor(async () => ((await result.textContent()) ?? "").includes("no-such-model"), 60_000, "the check's error");
    assert.doesNotMatch((await result.textContent()) ?? "", /Per record/);
    // nothing was changed: the dialog is left without saving
    await editor.page.locator("#node-dialog-cancel").click();
  });

  it("shows the H2O example's settings in its dialog, checks its MOJO (columns, labels, algorithm), and says which kind reads a file of another kind", async () => {
    const flow = readExample("h2o-mojo-scoring");
    await editor.showFlow(String(nodeOfType(flow, "tab").label));
    const tray = await editor.editNode(editor.workspaceNodeWithId(nodeOfType(flow, "python-model").id));
    assert.equal(await tray.locator("#node-input-kind").inputValue(), "h2o");
    assert.equal(await tray.locator("#node-input-unknownLevels").isVisible(), true);
    assert.equal(await tray.locator("#node-input-backend").isVisible(), false);
    assert.equal(await tray.locator("#node-input-onnxOutput").isVisible(), false);
    const result = tray.locator("#python-model-check-result");
    await tray.locator("#python-model-check").click();
    await waitFor(async () => /H2O gbm model/.test((await result.textContent()) ?? ""), 120_000, "the check's result");
    const shown = (await result.textContent()) ?? "";
    assert.match(shown, /Labels: benign, malignant/);
    assert.match(shown, /Features: .*mean_texture.*size/);
    assert.match(shown, /H2O gbm model, Binomial, exported by H2O 3\.46\.0\.11/);

    await tray.locator("#node-input-modelPath").fill("models/iris/iris_mlp.onnx");
    await tray.locator("#python-model-check").click();
    assert.match((await result.textContent()) ?? "", /A \.onnx file is read by Model "ONNX model file": choose that kind, then check again\./);
    await tray.locator("#node-input-kind").selectOption("onnx");
    assert.equal(await tray.locator("#node-input-onnxOutput").isVisible(), true);
    assert.equal(await tray.locator("#node-input-unknownLevels").isVisible(), false);
    await tray.locator("#python-model-check").click();
    await waitFor(async () => /ONNX outputs: output_0 \(this node uses output_0\)/.test((await result.textContent()) ?? ""), 120_000, "the ONNX check's result");
    await editor.page.locator("#node-dialog-cancel").click();
  });

  it("shows records from iris-in scored by the Keras example in the Debug sidebar", async () => {
    const flow = readExample("keras-iris-scoring");
    // the filter before the flow: the editor hands a change of flow to the Debug filter
    // 200 ms later, and a change of filter meanwhile cancels that (other flows' messages then show)
    await editor.showDebugSidebar();
    await editor.debugCurrentFlowOnly();
    await editor.showFlow(String(nodeOfType(flow, "tab").label));
    await editor.greenStatus(editor.workspaceNodeWithId(nodeOfType(flow, "python-model").id)).waitFor({ timeout: 120_000 });
    await editor.clearDebug();

    // kafka-in starts at the latest offset, and its debug node passes one msg a second:
    // feed a holdout row a little slower than that until three have been shown
    const prefix = `${uniqueName("holdout")}-`;
    const scored = editor.debugMessages("scored records").filter({ hasText: prefix });
    let sent = 0;
    const feed = setInterval(() => {
      const row = HOLDOUT[sent % HOLDOUT.length];
      void produce("iris-in", [{ key: `${prefix}${sent++}`, value: JSON.stringify({ features: row.features }) }]);
    }, 1200);
    try {
      await waitFor(async () => (await scored.count()) >= 3, 120_000, "three scored records in the Debug sidebar", 250);
    } finally {
      clearInterval(feed);
    }

    // one message, by its key: more may still arrive below it
    const key = /"([^"]+)"/.exec((await scored.first().locator(".red-ui-debug-msg-object-header").textContent()) ?? "")?.[1] ?? "";
    assert.ok(key.startsWith(prefix), `key ${key}`);
    const message = scored.filter({ hasText: `"${key}"` });
    const payload = await editor.expandDebugMessage(message, ["payload"]);
    const label = JSON.parse(payload.get("label") ?? "null") as string;
    assert.ok(SPECIES.includes(label), `label ${payload.get("label")}`);
    const score = Number(payload.get("score"));
    assert.ok(score > 1 / 3 && score <= 1, `score ${payload.get("score")}`);
    assert.equal(payload.get("probabilities"), "array[3]");
    const probabilities = await editor.expandDebugMessage(message, ["payload", "probabilities"]);
    const values = [...probabilities.values()].map(Number);
    assert.equal(values.length, 3);
    assert.equal(Math.max(...values), score, "the score is the highest probability");
    assert.equal(SPECIES[values.indexOf(score)], label, "the label is the species with the highest probability");
    assert.equal(await editor.debugMessages("failed records").count(), 0);

    await editor.zoomOut();
    await editor.zoomOut();
    await editor.page.mouse.move(0, 400);
    await editor.page.screenshot({ path: path.join(SCREENSHOTS, "keras-flow.png") });
  });

  it("shows batches from iris-in scored by the batch example in the Debug sidebar: their size and first result", async () => {
    const flow = readExample("keras-iris-batch-scoring");
    await editor.showDebugSidebar();
    await editor.debugCurrentFlowOnly();
    await editor.showFlow(String(nodeOfType(flow, "tab").label));
    await editor.greenStatus(editor.workspaceNodeWithId(nodeOfType(flow, "python-model").id)).waitFor({ timeout: 120_000 });
    await editor.clearDebug();

    // ten records at once a second: kafka-in hands them over as one batch (or a few)
    const prefix = `${uniqueName("batch")}-`;
    // a batch's summary shows its size and first result: opened below (only this flow's batches are shown)
    const batches = editor.debugMessages("scored batches");
    let sent = 0;
    const feed = setInterval(() => {
      const rows = Array.from({ length: 10 }, () => HOLDOUT[sent % HOLDOUT.length]);
      void produce("iris-in", rows.map((row) => ({ key: `${prefix}${sent++}`, value: JSON.stringify({ features: row.features }) })));
    }, 1000);
    try {
      await waitFor(async () => (await batches.count()) >= 2, 120_000, "two scored batches in the Debug sidebar", 250);
    } finally {
      clearInterval(feed);
    }
    const message = batches.first();
    const summary = await editor.expandDebugMessage(message, []);
    assert.ok(Number(summary.get("records")) >= 1, `records ${summary.get("records")}`);
    const first = await editor.expandDebugMessage(message, ["first"]);
    assert.ok(SPECIES.includes(JSON.parse(first.get("label") ?? "null") as string), `label ${first.get("label")}`);
    assert.match(JSON.parse(first.get("key") ?? "null") as string, new RegExp(`^${prefix}`), "the function node added the record's key");
    assert.equal(await editor.debugMessages("failed rows").count(), 0);
  });
});
