import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { startSchemaRegistry, type EmbeddedSchemaRegistry } from "../../scripts/lib/embedded-schema-registry";
import { RegistryClient } from "../../src/kafka/schema-registry/registry-client";
import { SchemaDecoder } from "../../src/kafka/schema-registry/serdes";
import { exampleNames, exampleTopics, readExample } from "../../scripts/lib/example-flows";
import { deployFlows, startNodeRed, type NodeRedProcess } from "../../scripts/lib/node-red-process";
import { PACKAGE_ROOT } from "../../src/package-paths";
import type { KafkaMessage } from "kafkajs";
import { committedOffsets, createTopic, findMatching, findRecord, produce, testBrokers } from "../support/kafka";
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
  /** For the Avro example, as `npm start` runs one. */
  let registry: EmbeddedSchemaRegistry;

  before(async () => {
    registry = await startSchemaRegistry({ logFile: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "registry-examples-")), "registry.log") });
    nodeRed = await startNodeRed({ userDir: fs.mkdtempSync(path.join(os.tmpdir(), "node-red-examples-")), port: await freePort(), flows: [] });
    // as `npm start` does: iris-in with partitions to share, every other topic of the examples
    await createTopic("iris-in", 3).catch(() => undefined);
    for (const topic of exampleTopics().filter((name) => name !== "iris-in")) await createTopic(topic, 1).catch(() => undefined);
  });
  after(async () => {
    await nodeRed?.stop();
    await registry?.stop();
    if (registry) fs.rmSync(path.dirname(registry.logFile), { recursive: true, force: true });
  });

  it("registers the six node types in one module without errors", async () => {
    const response = await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: "application/json" } });
    const sets = ((await response.json()) as NodeSet[]).filter((set) => set.module === PACKAGE_NAME);
    assert.deepEqual(sets.flatMap((set) => set.types).sort(), ["kafka-broker", "kafka-commit", "kafka-in", "kafka-out", "python-model", "schema-registry"]);
    for (const set of sets) {
      assert.equal(set.enabled, true);
      assert.equal(set.err, undefined, `${set.types.join()}: ${set.err}`);
    }
  });

  it("gives the editor one palette category, an icon, an edit dialog and help for each node", async () => {
    const response = await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: "text/html", "Accept-Language": "en-US" } });
    const html = await response.text();
    for (const type of ["kafka-broker", "kafka-commit", "kafka-in", "kafka-out", "python-model", "schema-registry"]) {
      // the script that registers the type (another may name it, as kafka-in names its schema-registry)
      const definition = html.split("<script").find((script) => script.includes("registerType") && (script.includes(`TYPE = "${type}"`) || script.includes(`registerType("${type}"`)));
      assert.ok(definition, `${type} is registered in the editor`);
      const category = /category:\s*["']([^"']+)["']/.exec(definition)?.[1];
      if (type === "kafka-broker" || type === "schema-registry") {
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

  /** What each example logs at error level by design (the errors example makes bad records on purpose). */
  const expectedErrors: Record<string, RegExp> = {
    "errors-and-dead-letters": /FeatureError: expected 4 features, got 2|Record is not valid JSON/,
  };

  for (const name of exampleNames()) {
    it(`deploys the example "${name}" through the admin API: its model loads, with no error or warning logged`, async () => {
      const logBefore = nodeRed.log().length;
      const newLog = (): string => nodeRed.log().slice(logBefore);
      await deployFlows(nodeRed.url, readExample(name, testBrokers(), registry.url));
      await waitFor(() => /model loaded by Python/.test(newLog()), 120_000, `the model of ${name} to load`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const problems = newLog()
        .split("\n")
        .filter((line) => /\[(error|warn)\]/.test(line) && !expectedErrors[name]?.test(line));
      assert.deepEqual(problems, []);
    });
  }

  /** Deploys an example, then writes `record` to `topic` every second until `outcome` holds. */
  async function runExample(name: string, topic: string, record: object, outcome: (prefix: string) => Promise<void>): Promise<void> {
    const logBefore = nodeRed.log().length;
    await deployFlows(nodeRed.url, readExample(name, testBrokers(), registry.url));
    await waitFor(() => /model loaded by Python/.test(nodeRed.log().slice(logBefore)), 120_000, `the model of ${name} to load`);
    // the examples read from the latest offset: keep producing until the consumer has joined
    const prefix = `${name}-${Date.now()}-`;
    let sent = 0;
    const feed = setInterval(() => void produce(topic, [{ key: `${prefix}${sent++}`, value: JSON.stringify(record) }]), 1000);
    try {
      await outcome(prefix);
    } finally {
      clearInterval(feed);
    }
  }

  const VIRGINICA = { features: [7.7, 2.6, 6.9, 2.3] };
  const labelOf = (record: KafkaMessage): string => (JSON.parse(String(record.value)) as { label: string }).label;
  const keyed = (prefix: string) => (key: string) => key.startsWith(prefix);

  it("runs the Keras example: iris-in scored onto iris-scored", async () => {
    await runExample("keras-iris-scoring", "iris-in", VIRGINICA, async (prefix) => {
      assert.equal(labelOf(await findRecord("iris-scored", keyed(prefix))), "virginica");
    });
  });

  it("runs the batch example: iris-in scored a batch at a time onto iris-batch-scored, each result with its record's key", async () => {
    await runExample("keras-iris-batch-scoring", "iris-in", VIRGINICA, async (prefix) => {
      const record = await findRecord("iris-batch-scored", keyed(prefix));
      const result = JSON.parse(String(record.value)) as { label: string; score: number; key: string };
      assert.equal(result.label, "virginica");
      assert.equal(result.key, String(record.key), "the function node added the record's key from msg.kafka.keys");
      assert.ok(result.score > 0.5 && result.score <= 1, `score ${result.score}`);
    });
  });

  it("runs the plain Python example: iris-in scored by petal rules onto iris-rules-scored", async () => {
    await runExample("python-function-scoring", "iris-in", VIRGINICA, async (prefix) => {
      assert.equal(labelOf(await findRecord("iris-rules-scored", keyed(prefix))), "virginica");
    });
  });

  it("runs the ONNX example: iris-in scored by onnxruntime onto iris-onnx-scored", async () => {
    await runExample("onnx-iris-scoring", "iris-in", VIRGINICA, async (prefix) => {
      const scored = JSON.parse(String((await findRecord("iris-onnx-scored", keyed(prefix))).value)) as { label: string; probabilities: number[] };
      assert.equal(scored.label, "virginica");
      assert.equal(scored.probabilities.length, 3);
    });
  });

  it("runs the H2O example: its inject writes a held-out record to cells-in, the MOJO scores it onto cells-scored", async () => {
    await deployFlows(nodeRed.url, readExample("h2o-mojo-scoring", testBrokers()));
    const scored = JSON.parse(String((await findRecord("cells-scored", (key) => key === "sample", 120_000)).value)) as { label: string; probabilities: number[]; threshold: number };
    assert.equal(scored.label, "malignant");
    assert.equal(scored.probabilities.length, 2);
    assert.ok(scored.probabilities[1] >= scored.threshold, `malignant ${scored.probabilities[1]} against the threshold ${scored.threshold}`);
  });

  it("runs the Avro example: its inject writes an Avro measurement to iris-avro-in, the Keras model's prediction lands on iris-avro-scored in Avro", async () => {
    // a result written now, in this registry's schema ids: the topic may hold results of other runs (the browser spec's), written with another registry's
    const since = Date.now();
    await deployFlows(nodeRed.url, readExample("avro-schema-registry-scoring", testBrokers(), registry.url));
    const record = await findMatching("iris-avro-scored", (written) => String(written.key) === "sample" && Number(written.timestamp) >= since, 120_000);
    const decoder = new SchemaDecoder(new RegistryClient({ urls: [registry.url] }));
    await decoder.prepare([record.value]);
    const { payload, schema } = decoder.decode(record.value);
    const prediction = payload as { label: string; score: number; probabilities: number[] };
    assert.equal(prediction.label, "virginica");
    assert.equal(prediction.probabilities.length, 3);
    assert.equal(schema.type, "AVRO");
    const subjects = await new RegistryClient({ urls: [registry.url] }).subjects();
    assert.ok(subjects.includes("iris-avro-in-value") && subjects.includes("iris-avro-scored-value"), `both schemas registered: ${subjects.join(", ")}`);
  });

  it("runs the scikit-learn example: iris-in scored by predict_proba onto iris-sklearn-scored", async () => {
    await runExample("scikit-learn-scoring", "iris-in", VIRGINICA, async (prefix) => {
      const scored = JSON.parse(String((await findRecord("iris-sklearn-scored", keyed(prefix))).value)) as { label: string; probabilities: number[] };
      assert.equal(scored.label, "virginica");
      assert.equal(scored.probabilities.length, 3);
    });
  });

  it("runs the routing example: a sure record goes to iris-confident, an unsure one to iris-uncertain", async () => {
    // a held-out virginica the demo model gives 0.68 (see models/iris/holdout.json)
    await runExample("route-by-score", "iris-in", { features: [6.1, 2.6, 5.6, 1.4] }, async (prefix) => {
      assert.ok(await findRecord("iris-uncertain", keyed(prefix)));
    });
    await runExample("route-by-score", "iris-in", VIRGINICA, async (prefix) => {
      assert.equal(labelOf(await findRecord("iris-confident", keyed(prefix))), "virginica");
    });
  });

  it("runs the errors example: good records scored, bad ones in iris-dead-letters with their error", async () => {
    const since = Date.now();
    // the example feeds itself; records of this run only (the deploy test ran it too)
    const fresh = (key: string) => (record: KafkaMessage) => String(record.key) === key && Number(record.timestamp) >= since;
    await runExample("errors-and-dead-letters", "iris-errors-in", VIRGINICA, async () => {
      const good = await findMatching("iris-errors-scored", fresh("good"));
      assert.equal(labelOf(good), "virginica");
      const short = await findMatching("iris-dead-letters", fresh("short"));
      const broken = await findMatching("iris-dead-letters", fresh("broken"));
      assert.equal(String(short.headers?.["dlq.error"]), "FeatureError: expected 4 features, got 2");
      assert.match(String(broken.headers?.["dlq.error"]), /not valid JSON/);
      assert.equal(String(broken.value), '{"features": [5.1, 3.5,', "the original value, as written");
      assert.equal(String(short.headers?.["dlq.source.topic"]), "iris-errors-in");
    });
  });

  it("runs the example without kafka-out: records are scored and kafka-commit gets their offsets committed", async () => {
    const committed = async (): Promise<number> =>
      [...(await committedOffsets("debug-only-example", "iris-in")).values()].reduce((sum, offset) => sum + Math.max(0, Number(offset)), 0);
    const before = await committed();
    await runExample("score-without-kafka-out", "iris-in", VIRGINICA, async () => {
      await waitFor(async () => (await committed()) >= before + 3, 120_000, "the example's group to commit three more records", 500);
    });
  });
});
