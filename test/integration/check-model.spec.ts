import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { startNodeRed, type NodeRedProcess } from "../../scripts/lib/node-red-process";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { IRIS_MODEL, PETAL_RULES, waitFor } from "../support/python";

const ADMIN = { username: "editor-admin", password: "check-model-test-pw" };

/** Node-RED's own password hashing (bcrypt), from the editor API package that checks it. */
function bcryptHash(password: string): string {
  const editorApi = path.dirname(require.resolve("@node-red/editor-api/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from node-red's dependencies at run time
  const bcrypt = require(require.resolve("bcryptjs", { paths: [editorApi] })) as { hashSync(text: string, rounds: number): string };
  return bcrypt.hashSync(password, 8);
}

interface CheckReply {
  ok: boolean;
  error?: string;
  info?: { input_shape?: (number | null)[]; output_shape?: (number | null)[]; labels?: string[]; feature_names?: string[]; python: string };
}

/** The python-model dialog's "check model" endpoint, in a real Node-RED with admin auth on. */
describe("python-model check-model endpoint (real Node-RED, real Python)", function () {
  this.timeout(180_000);
  let nodeRed: NodeRedProcess;
  let token: string;

  before(async () => {
    nodeRed = await startNodeRed({
      userDir: fs.mkdtempSync(path.join(os.tmpdir(), "node-red-check-")),
      port: await freePort(),
      flows: [],
      adminUser: { username: ADMIN.username, passwordHash: bcryptHash(ADMIN.password) },
    });
    const response = await fetch(`${nodeRed.url}/auth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ client_id: "node-red-admin", grant_type: "password", scope: "*", username: ADMIN.username, password: ADMIN.password }),
    });
    assert.equal(response.status, 200, "logged in to the admin API");
    token = ((await response.json()) as { access_token: string }).access_token;
  });

  after(async () => {
    await nodeRed?.stop();
    if (nodeRed) fs.rmSync(nodeRed.userDir, { recursive: true, force: true });
  });

  async function check(settings: object, authorised = true): Promise<{ status: number; reply?: CheckReply }> {
    const response = await fetch(`${nodeRed.url}/python-model/check`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(authorised ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(settings),
    });
    return { status: response.status, reply: response.ok ? ((await response.json()) as CheckReply) : undefined };
  }

  it("refuses a caller without admin credentials", async () => {
    const { status } = await check({ kind: "keras", modelPath: IRIS_MODEL }, false);
    assert.equal(status, 401);
  });

  it("loads the demo Keras model and gives its shapes, labels and features", async () => {
    const { reply } = await check({ kind: "keras", modelPath: IRIS_MODEL, backend: "tensorflow" });
    assert.equal(reply?.ok, true, reply?.error);
    assert.deepEqual(reply?.info?.input_shape, [4], "one record: 4 features");
    assert.deepEqual(reply?.info?.output_shape, [3], "one record: 3 class probabilities");
    assert.deepEqual(reply?.info?.labels, ["setosa", "versicolor", "virginica"]);
    assert.equal(reply?.info?.feature_names?.length, 4);
    assert.match(reply?.info?.python ?? "", /^3\.\d+/);
  });

  it("loads a plain Python handler", async () => {
    const { reply } = await check({ kind: "python", handlerPath: PETAL_RULES });
    assert.equal(reply?.ok, true, reply?.error);
  });

  it("gives the exact error for a model file that is missing, and for a setting left blank", async () => {
    const missing = path.join(os.tmpdir(), "no-such-model.keras");
    const { reply } = await check({ kind: "keras", modelPath: missing });
    assert.equal(reply?.ok, false);
    assert.match(reply?.error ?? "", new RegExp(`${missing.replace(/[.]/g, "\\.")}`));
    const blank = await check({ kind: "keras", modelPath: "" });
    assert.equal(blank.reply?.ok, false);
    assert.match(blank.reply?.error ?? "", /model file/i);
  });

  it("lists every place it looked for a relative model path found nowhere, as the deployed node's error does", async () => {
    const places = `${path.join(nodeRed.userDir, "models", "missing.keras")}, ${path.join(PACKAGE_ROOT, "models", "missing.keras")}`;
    const expected = `Model file not found: models/missing.keras (looked in ${places})`;
    const { reply } = await check({ kind: "keras", modelPath: "models/missing.keras" });
    assert.equal(reply?.ok, false);
    assert.equal(reply?.error, expected);

    const deployed = await fetch(`${nodeRed.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full", Authorization: `Bearer ${token}` },
      body: JSON.stringify([
        { id: "f1", type: "tab" },
        { id: "model", type: "python-model", z: "f1", kind: "keras", modelPath: "models/missing.keras", wires: [] },
      ]),
    });
    assert.ok(deployed.ok, `deploy answered ${deployed.status}`);
    await waitFor(() => nodeRed.log().includes(expected), 30_000, "the node's error in the log");
    const line = nodeRed.log().split("\n").find((entry) => entry.includes(expected));
    assert.match(line ?? "", /\[error\] \[python-model:model\] Model file not found/);
  });

  it("says that output 'label' needs labels a Keras model does not have, before deploy", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keras-unlabelled-"));
    const model = path.join(dir, "iris.keras");
    fs.copyFileSync(IRIS_MODEL, model);
    const { reply } = await check({ kind: "keras", modelPath: model, backend: "jax", output: "label" });
    assert.equal(reply?.ok, false);
    assert.equal(reply?.error, `ValueError: output 'label' needs the class labels, as "labels" in the sidecar ${path.join(dir, "iris.meta.json")}, which does not exist`);
  });
});
