import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { deployFlows, startNodeRed, type NodeRedProcess } from "../../scripts/lib/node-red-process";
import { EditorStatuses } from "../support/editor-statuses";
import { PYTHON, childrenOf, waitFor, workersOf } from "../support/python";

/** Models this Node-RED may load at once (PYTHON_MODEL_MAX_LOADS). */
const BOUND = 2;
const NODES = ["m1", "m2", "m3", "m4", "m5", "m6"];

/**
 * A handler whose load() writes "start <model>" and "end <model>" to a file, so that the
 * workers themselves say when they load, and waits between the two until the gate file
 * exists: the test decides when loads may finish. A model file that reads "broken" fails.
 */
function gatedHandler(dir: string): string {
  const file = path.join(dir, "gated_handler.py");
  fs.writeFileSync(
    file,
    `import os, time

LOG = ${JSON.stringify(path.join(dir, "loads.log"))}
GATE = ${JSON.stringify(path.join(dir, "gate"))}


def note(event, path):
    with open(LOG, "a") as log:
        log.write(f"{event} {os.path.basename(path)}\\n")


def load(path, config):
    note("start", path)
    with open(path) as model:
        broken = model.read().strip() == "broken"
    if broken:
        note("end", path)
        raise RuntimeError("this model does not load")
    while not os.path.exists(GATE):
        time.sleep(0.05)
    note("end", path)
    return None


def predict(model, batch):
    return [0 for _ in batch]
`,
  );
  return file;
}

/**
 * One scratch folder per test: the handler, its model files, its load log and its gate;
 * its nodes' ids are its own, so that no status of an earlier test is mistaken for theirs.
 */
class Scene {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-loads-"));
  readonly handler = gatedHandler(this.dir);

  constructor(private readonly statuses: EditorStatuses) {}

  /** Python model nodes named by `models` (name: "ok", or "broken" for one that fails to load). */
  flow(models: Record<string, string>, reload = false): object[] {
    const modelNodes = Object.entries(models).map(([name, content]) => {
      const modelPath = path.join(this.dir, name);
      fs.writeFileSync(modelPath, content);
      return { id: this.id(name), type: "python-model", z: "loads", python: PYTHON, kind: "python", handlerPath: this.handler, modelPath, reload, wires: [] };
    });
    return [{ id: "loads", type: "tab" }, ...modelNodes];
  }

  id(name: string): string {
    return `${path.basename(this.dir)}-${name}`;
  }

  /** The load log: ["start m1", "start m2", "end m1", ...]. */
  loads(): string[] {
    const file = path.join(this.dir, "loads.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  }

  /** Every status text a node has shown in the editor, in order. */
  shown(name: string): string[] {
    return this.statuses.of(this.id(name));
  }

  lastStatus(name: string): string {
    return this.shown(name).at(-1) ?? "";
  }

  /** The places in the queue a node was told, in order. */
  places(name: string): number[] {
    return this.shown(name).flatMap((text) => {
      const place = /^waiting to load \((\d+) ahead\)$/.exec(text);
      return place ? [Number(place[1])] : [];
    });
  }

  openGate(): void {
    fs.writeFileSync(path.join(this.dir, "gate"), "");
  }

  closeGate(): void {
    fs.rmSync(path.join(this.dir, "gate"), { force: true });
  }
}

/** The most loads under way at one moment, by the workers' own start and end lines. */
function mostAtOnce(loads: string[]): number {
  let under = 0;
  let most = 0;
  for (const line of loads) {
    under += line.startsWith("start ") ? 1 : -1;
    most = Math.max(most, under);
  }
  return most;
}

/** Deploys only what changed, as the editor's default Deploy does: the other nodes keep running. */
async function deployChangedNodes(url: string, flows: object[]): Promise<void> {
  const response = await fetch(`${url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "nodes", "Node-RED-API-Version": "v1" },
    body: JSON.stringify(flows),
  });
  if (!response.ok) throw new Error(`deploy failed: ${response.status} ${await response.text()}`);
}

/** Many python-model nodes in one real Node-RED take turns to load their models. */
describe(`model loads in turns (real Node-RED, PYTHON_MODEL_MAX_LOADS=${BOUND})`, function () {
  this.timeout(180_000);
  let nodeRed: NodeRedProcess;
  let statuses: EditorStatuses;
  let scene: Scene;

  /** The Node-RED process itself (it renames its process, so find it as the child of the shell that watches it). */
  const runtimePid = (): number => {
    const [pid] = childrenOf(nodeRed.pid as number).filter((child) => fs.readFileSync(`/proc/${child}/cmdline`, "utf8").startsWith("node-red"));
    return pid;
  };

  before(async () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "node-red-loads-"));
    nodeRed = await startNodeRed({ userDir, port: await freePort(), flows: [], env: { PYTHON_MODEL_MAX_LOADS: String(BOUND) } });
  });
  beforeEach(async () => {
    statuses = await EditorStatuses.connect(nodeRed.url);
    scene = new Scene(statuses);
  });
  afterEach(async () => {
    scene.openGate();
    await deployFlows(nodeRed.url, []);
    statuses.close();
  });
  after(async () => {
    await nodeRed?.stop();
  });

  it("loads at most the bound at once; the others say how many wait before them as the queue moves, and all become ready", async () => {
    await deployFlows(nodeRed.url, scene.flow(Object.fromEntries(NODES.map((id) => [id, "ok"]))));
    await waitFor(() => scene.loads().length === BOUND && NODES.filter((name) => /^waiting to load/.test(scene.lastStatus(name))).length === NODES.length - BOUND, 60_000, "the first loads under way and the rest queued");
    const first = scene.loads().map((line) => line.replace("start ", ""));
    const queued = NODES.filter((name) => !first.includes(name));
    assert.deepEqual(queued.map((name) => scene.places(name)).sort(), [[0], [1], [2], [3]], "each queued node's place");

    scene.openGate();
    await waitFor(() => NODES.every((name) => scene.lastStatus(name) === "ready"), 120_000, "every node ready");
    const loads = scene.loads();
    assert.equal(mostAtOnce(loads), BOUND, `loads under way at once, by the workers: ${loads.join(", ")}`);
    assert.deepEqual(loads.filter((line) => line.startsWith("start ")).map((line) => line.slice(6)).sort(), NODES, "each model loaded once");
    for (const name of first) assert.deepEqual(scene.shown(name), ["loading model", "ready"], `${name} never waited`);
    for (const name of queued) {
      const places = scene.places(name);
      assert.deepEqual(places, Array.from({ length: places[0] + 1 }, (_, step) => places[0] - step), `${name} was told each place down to the front`);
      assert.deepEqual(scene.shown(name).slice(-2), ["loading model", "ready"], `${name} after its wait`);
    }
  });

  it("gives the place of a load that failed to the next one at once", async () => {
    await deployFlows(nodeRed.url, scene.flow({ m1: "ok", m2: "broken", m3: "ok", m4: "ok" }));
    await waitFor(() => scene.loads().includes("start m3"), 60_000, "m3 to start loading while m1 still holds its place");
    const loads = scene.loads();
    assert.deepEqual([...loads].sort(), ["end m2", "start m1", "start m2", "start m3"], "m1 still loading, m2 failed, m3 loading");
    assert.ok(loads.indexOf("end m2") < loads.indexOf("start m3"), `m3 took the place m2 gave back: ${loads.join(", ")}`);
    await waitFor(() => /this model does not load/.test(scene.lastStatus("m2")), 10_000, "m2 to show why it failed");
    await waitFor(() => scene.lastStatus("m4") === "waiting to load (0 ahead)", 10_000, "m4 to move to the front");
  });

  it("lets a model check from the edit dialog wait only for a load under way: it goes before the nodes in the queue", async () => {
    await deployFlows(nodeRed.url, scene.flow(Object.fromEntries(NODES.map((id) => [id, "ok"]))));
    await waitFor(() => scene.loads().length === BOUND && scene.lastStatus("m6") === "waiting to load (3 ahead)", 60_000, "two loads under way, four queued");
    fs.writeFileSync(path.join(scene.dir, "check"), "ok");
    const check = fetch(`${nodeRed.url}/python-model/check`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "python", python: PYTHON, handlerPath: scene.handler, modelPath: path.join(scene.dir, "check") }),
    });
    // the check goes before the queued nodes, so they are told they have one more ahead
    await waitFor(() => scene.lastStatus("m3") === "waiting to load (1 ahead)" && scene.lastStatus("m6") === "waiting to load (4 ahead)", 30_000, "the check to queue first");
    assert.deepEqual(scene.loads().length, BOUND, "the check waits while both places are held");
    scene.openGate();
    const reply = (await (await check).json()) as { ok: boolean; error?: string };
    assert.equal(reply.ok, true, reply.error);
    await waitFor(() => NODES.every((name) => scene.lastStatus(name) === "ready"), 120_000, "every node ready");
    // m3, first in the queue, fell behind the check, and was next again once the check had a place
    assert.deepEqual(scene.places("m3"), [0, 1, 0]);
    assert.ok(mostAtOnce(scene.loads()) <= BOUND, `the check kept to the bound: ${scene.loads().join(", ")}`);
  });

  it("restarts workers after a crash in turns too", async () => {
    const three = { m1: "ok", m2: "ok", m3: "ok" };
    scene.openGate();
    await deployFlows(nodeRed.url, scene.flow(three));
    await waitFor(() => Object.keys(three).every((name) => scene.lastStatus(name) === "ready"), 60_000, "three nodes ready");
    scene.closeGate();
    const before = scene.loads().length;
    workersOf(runtimePid()).forEach((pid) => process.kill(pid, "SIGKILL"));
    await waitFor(() => scene.loads().length === before + BOUND && Object.keys(three).some((name) => scene.lastStatus(name) === "waiting to load (0 ahead)"), 60_000, "two restarts loading, one waiting");
    scene.openGate();
    await waitFor(() => Object.keys(three).every((name) => scene.lastStatus(name) === "ready · 1 restarts"), 60_000, "three nodes ready again");
    assert.ok(mostAtOnce(scene.loads()) <= BOUND, `loads under way at once: ${scene.loads().join(", ")}`);
  });

  it("reloads changed models in turns too, the nodes staying ready with the models they have meanwhile", async () => {
    const three = { m1: "ok", m2: "ok", m3: "ok" };
    scene.openGate();
    await deployFlows(nodeRed.url, scene.flow(three, true));
    await waitFor(() => Object.keys(three).every((name) => scene.lastStatus(name) === "ready"), 60_000, "three nodes ready");
    scene.closeGate();
    const before = scene.loads().length;
    fs.appendFileSync(scene.handler, "\n# changed\n");
    await waitFor(() => scene.loads().length === before + BOUND, 60_000, "two reloads under way");
    scene.openGate();
    await waitFor(() => Object.keys(three).every((name) => scene.lastStatus(name) === "model reloaded"), 60_000, "three nodes reloaded");
    assert.equal(scene.loads().length, before + 2 * Object.keys(three).length, "each model loaded again, once");
    for (const name of Object.keys(three)) assert.deepEqual(scene.shown(name).slice(-2), ["ready", "model reloaded"], `${name} while its new worker waited and loaded`);
    assert.ok(mostAtOnce(scene.loads()) <= BOUND, `loads under way at once: ${scene.loads().join(", ")}`);
  });

  it("takes a node closed while queued out of the queue at once, and a closed flow leaves no load and no Python process behind", async () => {
    const flow = scene.flow(Object.fromEntries(NODES.map((id) => [id, "ok"])));
    await deployFlows(nodeRed.url, flow);
    await waitFor(() => scene.loads().length === BOUND && scene.lastStatus("m6") === "waiting to load (3 ahead)", 60_000, "two loads under way, m6 queued behind three others");

    await deployChangedNodes(nodeRed.url, flow.filter((node) => (node as { id: string }).id !== scene.id("m4")));
    await waitFor(() => scene.lastStatus("m6") === "waiting to load (2 ahead)", 30_000, "m6 to move up as m4 leaves");
    assert.equal(scene.lastStatus("m5"), "waiting to load (1 ahead)");
    assert.equal(scene.lastStatus("m3"), "waiting to load (0 ahead)");

    await deployFlows(nodeRed.url, []);
    assert.deepEqual(workersOf(runtimePid()), [], "no Python process left");
    assert.deepEqual(scene.loads().sort(), ["start m1", "start m2"], "no queued load started as the flow closed");
  });
});
