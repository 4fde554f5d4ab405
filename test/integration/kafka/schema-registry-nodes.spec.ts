import * as assert from "node:assert/strict";
import * as net from "node:net";
import { startSchemaRegistry, type EmbeddedSchemaRegistry } from "../../../scripts/lib/embedded-schema-registry";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, schemaRegistry, statusFill, statusOf, waitForStatus } from "../../support/node-red-helper";
import { consume, createTopic, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { waitFor } from "../../support/python";
import { peer, pythonWrites } from "../../support/schema-registry";

const READING = { type: "record", name: "Reading", namespace: "plant", fields: [{ name: "sensor", type: "string" }, { name: "value", type: "double" }] };
const READINGS = [
  { sensor: "a", value: 1.5 },
  { sensor: "b", value: -2.25 },
];
const ORDER = { id: "o-1", total: { currency: "EUR", units: "12" }, lines: [{ sku: "s1", qty: 2 }], status: "SHIPPED", score: 0.5, counts: { x: 1 } };
const PREDICTION_SCHEMA = { $schema: "http://json-schema.org/draft-07/schema#", title: "Prediction", type: "object", properties: { label: { type: "string" }, score: { type: "number" } } };

const SENSOR_KEY = { type: "record", name: "SensorKey", namespace: "plant", fields: [{ name: "site", type: "string" }, { name: "sensor", type: "int" }] };
const SENSOR_KEYS = [
  { site: "north", sensor: 1 },
  { site: "south", sensor: 2 },
];

interface Received {
  payload: unknown;
  key: unknown;
  kafka: { schema?: { id: number; type: string }; keySchema?: { id: number; type: string } };
  error?: { message: string };
}

/**
 * A TCP door in front of the registry: closed, nothing answers on its port (connections
 * are refused), as when the registry is down; opened, it passes connections through.
 */
async function registryDoor(target: URL): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  let isOpen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    if (!isOpen) return socket.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    const end = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    open: () => (isOpen = true),
    close: () => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function flow(registryUrl: string, input: string, deadLetterTopic = "") {
  return [
    { id: "f1", type: "tab" },
    { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "schema-registry-test" },
    { id: "registry", type: "schema-registry", urls: registryUrl, auth: "none" },
    { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: uniqueName("registry"), fromBeginning: true, payloadFormat: "schema-registry", registry: "registry", deadLetterTopic, wires: [["out"]] },
    { id: "out", type: "helper", z: "f1" },
    { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper", z: "f1" },
  ];
}

/** kafka-in reading Schema Registry records on the real broker, with a real registry (Apicurio) and Confluent's Python serializers writing them. */
describe(`kafka-in and kafka-out with a schema registry (real broker, real registry) [${TEST_ENGINE} engine]`, function () {
  this.timeout(180_000);
  let registry: EmbeddedSchemaRegistry;

  before(async () => {
    registry = await startSchemaRegistry();
  });

  after(async () => {
    await registry?.stop();
  });

  afterEach(async () => {
    await helper.unload();
  });

  it("decodes Avro, Protobuf and JSON Schema records into msg.payload with msg.kafka.schema; a record not in the wire format goes to Catch and the dead-letter topic byte for byte, and the rest flows", async () => {
    const input = uniqueName("registry-in");
    const deadLetters = uniqueName("registry-dlq");
    await createTopic(input, 1);
    await createTopic(deadLetters, 1);
    const [avroA, avroB] = await pythonWrites(registry.url, input, "avro", READINGS, READING);
    const [order] = await pythonWrites(registry.url, `${input}-orders`, "protobuf", [ORDER], {});
    const [prediction] = await pythonWrites(registry.url, `${input}-predictions`, "json", [{ label: "setosa", score: 0.9 }], PREDICTION_SCHEMA);
    const plainJson = Buffer.from(JSON.stringify(READINGS[0]));
    await produce(input, [
      { key: "avro-a", value: avroA },
      { key: "plain", value: plainJson },
      { key: "avro-b", value: avroB },
      { key: "order", value: order },
      { key: "prediction", value: prediction },
    ]);
    await helper.load([kafkaBroker, kafkaIn, schemaRegistry, catchNode], flow(registry.url, input, deadLetters));
    const received: Received[] = [];
    const caught: Received[] = [];
    helper.getNode("out").on("input", (msg: Received) => received.push(msg));
    helper.getNode("errors").on("input", (msg: Received) => caught.push(msg));
    await waitFor(() => received.length === 4 && caught.length === 1, 60_000, "four records decoded and one caught");

    const byKey = new Map(received.map((msg) => [msg.key, msg]));
    assert.deepEqual(JSON.parse(JSON.stringify(byKey.get("avro-a")?.payload)), READINGS[0]);
    assert.deepEqual(JSON.parse(JSON.stringify(byKey.get("avro-b")?.payload)), READINGS[1]);
    assert.equal(byKey.get("avro-a")?.kafka.schema?.type, "AVRO");
    assert.equal(byKey.get("avro-a")?.kafka.schema?.id, avroA.readInt32BE(1));
    assert.deepEqual(byKey.get("order")?.payload, ORDER);
    assert.equal(byKey.get("order")?.kafka.schema?.type, "PROTOBUF");
    assert.deepEqual(byKey.get("prediction")?.payload, { label: "setosa", score: 0.9 });
    assert.equal(byKey.get("prediction")?.kafka.schema?.type, "JSON");

    assert.equal(caught[0].key, "plain");
    assert.match(caught[0].error?.message ?? "", /Record cannot be read with the schema registry: not a Schema Registry record \(its first byte is 123, not the magic byte 0\)/);
    assert.ok(Buffer.isBuffer(caught[0].payload) && caught[0].payload.equals(plainJson), "Catch gets the record's bytes");
    const [dead] = await consume(deadLetters, 1, 60_000);
    assert.ok(dead.value?.equals(plainJson), "the dead letter is the record byte for byte");
  });

  it("kafka-out writes msg.payload as registry records Python reads: Avro registered from the dialog, Protobuf in the latest version Python registered, the message by its name; a payload that does not fit goes to Catch naming the field", async () => {
    const avroTopic = uniqueName("registry-out-avro");
    const protoTopic = uniqueName("registry-out-proto");
    await createTopic(avroTopic, 1);
    await createTopic(protoTopic, 1);
    await pythonWrites(registry.url, protoTopic, "protobuf", [ORDER], {}); // registers <topic>-value, as Python's serializer does
    await helper.load(
      [kafkaBroker, kafkaOut, schemaRegistry, catchNode],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "schema-registry-test" },
        { id: "registry", type: "schema-registry", urls: registry.url, auth: "none" },
        { id: "avro-out", type: "kafka-out", z: "f1", broker: "broker", topic: avroTopic, acks: "all", valueFormat: "schema-registry", registry: "registry", schemaSource: "register", schemaType: "AVRO", schemaText: JSON.stringify(READING), wires: [] },
        { id: "proto-out", type: "kafka-out", z: "f1", broker: "broker", topic: protoTopic, acks: "all", valueFormat: "schema-registry", registry: "registry", schemaSource: "latest", recordName: "Order", wires: [] },
        { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
        { id: "errors", type: "helper", z: "f1" },
      ],
    );
    const caught: Received[] = [];
    helper.getNode("errors").on("input", (msg: Received) => caught.push(msg));
    helper.getNode("avro-out").receive({ payload: READINGS[0], key: "a" });
    helper.getNode("avro-out").receive({ payload: { sensor: "c", value: "high" }, key: "bad" });
    helper.getNode("avro-out").receive({ payload: READINGS[1], key: "b" });
    helper.getNode("proto-out").receive({ payload: ORDER, key: "o" });
    const avroRecords = await consume(avroTopic, 2, 60_000);
    const [protoRecord] = await consume(protoTopic, 1, 60_000);
    assert.deepEqual(await peer("deserialize", registry.url, avroTopic, "avro", avroRecords.map((record) => record.value?.toString("hex"))), READINGS);
    assert.deepEqual(await peer("deserialize", registry.url, protoTopic, "protobuf", [protoRecord.value?.toString("hex")]), [ORDER]);
    await waitFor(() => caught.length === 1, 10_000, "the payload that does not fit at Catch");
    assert.equal(caught[0].key, "bad");
    assert.match(caught[0].error?.message ?? "", /Cannot write msg.payload in the registry's schema: the value does not fit the Avro schema plant.Reading: value: "high"/);
  });

  it("in one message per batch: kafka-in decodes Python's Avro records into the batch's payload array, kafka-out writes each element as an Avro record Python reads", async () => {
    const input = uniqueName("registry-batch-in");
    const output = uniqueName("registry-batch-out");
    await Promise.all([createTopic(input, 1), createTopic(output, 1)]);
    const readings = Array.from({ length: 20 }, (_, index) => ({ sensor: `s${index}`, value: index / 4 }));
    const values = await pythonWrites(registry.url, input, "avro", readings, READING);
    await produce(input, values.map((value, index) => ({ key: `k${index}`, value })));
    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut, schemaRegistry, catchNode],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "schema-registry-test" },
        { id: "registry", type: "schema-registry", urls: registry.url, auth: "none" },
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: input, groupId: uniqueName("registry-batch"), fromBeginning: true, payloadFormat: "schema-registry", registry: "registry", outputMode: "batch", wires: [["seen", "out"]] },
        { id: "seen", type: "helper", z: "f1" },
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", valueFormat: "schema-registry", registry: "registry", schemaSource: "register", schemaType: "AVRO", schemaText: JSON.stringify(READING), wires: [] },
        { id: "catcher", type: "catch", z: "f1", scope: null, uncaught: false, wires: [["errors"]] },
        { id: "errors", type: "helper", z: "f1" },
      ],
    );
    const seen: { payload: unknown[] }[] = [];
    const caught: Received[] = [];
    helper.getNode("seen").on("input", (msg: { payload: unknown[] }) => seen.push(msg));
    helper.getNode("errors").on("input", (msg: Received) => caught.push(msg));
    const written = await consume(output, readings.length, 60_000);
    assert.ok(seen.every((msg) => Array.isArray(msg.payload)) && seen.length < readings.length, `${readings.length} records in ${seen.length} batch msgs`);
    assert.deepEqual(JSON.parse(JSON.stringify(seen.flatMap((msg) => msg.payload))), readings, "the batches' payloads, decoded in order");
    const decoded = await peer("deserialize", registry.url, output, "avro", written.map((record) => record.value?.toString("hex")));
    const byKey = new Map(written.map((record, index) => [String(record.key), decoded[index]]));
    assert.deepEqual(readings.map((_, index) => byKey.get(`k${index}`)), readings, "one Avro record per element, with its record's key");
    assert.deepEqual(caught, []);
  });

  it("reads and writes keys in the registry's wire format: Python's Avro keys decoded on msg.key, kafka-out's keys in <topic>-key that Python reads; a key not in the format goes to Catch", async () => {
    const input = uniqueName("registry-keys-in");
    const output = uniqueName("registry-keys-out");
    await createTopic(input, 1);
    await createTopic(output, 1);
    const keys = await pythonWrites(registry.url, input, "avro", SENSOR_KEYS, SENSOR_KEY, "key");
    const values = await pythonWrites(registry.url, input, "avro", READINGS, READING);
    // kafka-out writes in the latest schema of <output>-key: Python registers it, as a producer of keys would
    await pythonWrites(registry.url, output, "avro", [SENSOR_KEYS[0]], SENSOR_KEY, "key");
    await produce(input, [
      { key: keys[0], value: values[0] },
      { key: Buffer.from("plain-key"), value: values[1] },
      { key: keys[1], value: values[1] },
    ]);
    const nodes = flow(registry.url, input);
    const reader = nodes.find((node) => node.id === "in") as Record<string, unknown>;
    Object.assign(reader, { keyFormat: "schema-registry", wires: [["out", "writer"]] });
    nodes.push({ id: "writer", type: "kafka-out", z: "f1", broker: "broker", topic: output, acks: "all", keyFormat: "schema-registry", registry: "registry", wires: [] } as never);
    await helper.load([kafkaBroker, kafkaIn, kafkaOut, schemaRegistry, catchNode], nodes);
    const received: Received[] = [];
    const caught: Received[] = [];
    helper.getNode("out").on("input", (msg: Received) => received.push(msg));
    helper.getNode("errors").on("input", (msg: Received) => caught.push(msg));
    await waitFor(() => received.length === 2 && caught.length === 1, 60_000, "two records with keys read and one at Catch");
    assert.deepEqual(received.map((msg) => JSON.parse(JSON.stringify(msg.key))), SENSOR_KEYS);
    assert.deepEqual(received.map((msg) => msg.kafka.keySchema?.type), ["AVRO", "AVRO"]);
    assert.deepEqual(received.map((msg) => JSON.parse(JSON.stringify(msg.payload))), [READINGS[0], READINGS[1]]);
    assert.equal(String(caught[0].key), "plain-key", "the key's bytes as they were");
    assert.match(caught[0].error?.message ?? "", /the key: .*magic byte/);
    // kafka-out wrote each decoded key back in the registry's format, and the msg's payload (a plain object) as JSON
    const written = await consume(output, 2, 60_000);
    assert.deepEqual(await peer("deserialize", registry.url, output, "avro", written.map((record) => record.key?.toString("hex")), undefined, "key"), SENSOR_KEYS);
  });

  it("waits for a registry that does not answer, says so in its status, and delivers every record once it answers: none fails for it", async () => {
    const input = uniqueName("registry-wait");
    await createTopic(input, 1);
    const records = await pythonWrites(registry.url, input, "avro", READINGS, READING);
    await produce(
      input,
      records.map((value, index) => ({ key: String(index), value })),
    );
    const door = await registryDoor(new URL(registry.url));
    try {
      await helper.load([kafkaBroker, kafkaIn, schemaRegistry, catchNode], flow(door.url, input));
      const received: Received[] = [];
      const caught: Received[] = [];
      helper.getNode("out").on("input", (msg: Received) => received.push(msg));
      helper.getNode("errors").on("input", (msg: Received) => caught.push(msg));
      await waitForStatus("in", /^waiting for the schema registry: /, 60_000, "the wait for the registry");
      assert.equal(statusFill("in"), "yellow");
      assert.equal(received.length, 0);
      door.open();
      await waitFor(() => received.length === 2, 60_000, "both records once the registry answers");
      assert.deepEqual(
        received.map((msg) => JSON.parse(JSON.stringify(msg.payload)) as unknown),
        READINGS,
      );
      assert.equal(caught.length, 0);
      await waitForStatus("in", "subscribed", 30_000, "the status back to subscribed");
      assert.match(statusOf("in"), /^subscribed$/);
    } finally {
      await door.close();
    }
  });
});
