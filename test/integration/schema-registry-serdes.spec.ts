import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as sinon from "sinon";
import { startSchemaRegistry, type EmbeddedSchemaRegistry } from "../../scripts/lib/embedded-schema-registry";
import { RegistryClient, RegistryUnavailableError } from "../../src/kafka/schema-registry/registry-client";
import { SchemaMismatchError } from "../../src/kafka/schema-registry/schema-codec";
import { SchemaDecoder, SchemaEncoder, UnknownSchemaError } from "../../src/kafka/schema-registry/serdes";
import { NotWireFormatError, readFrame } from "../../src/kafka/schema-registry/wire-format";
import { helper, schemaRegistry } from "../support/node-red-helper";
import { peer, pythonWrites } from "../support/schema-registry";

/** order.proto's Order: the second message of a file that imports another, as protobuf's JSON mapping gives it with every field. */
const ORDERS = [
  { id: "o-1", total: { currency: "EUR", units: "9007199254740993" }, lines: [{ sku: "s1", qty: 2 }], status: "SHIPPED", score: 0.5, counts: { x: 1 } },
  { id: "o-2", total: { currency: "", units: "0" }, lines: [], status: "NEW", score: 0, counts: {} },
];

const IRIS_AVRO = {
  type: "record",
  name: "Measurement",
  namespace: "iris",
  fields: [
    { name: "sepal_length_cm", type: "double" },
    { name: "sepal_width_cm", type: "double" },
    { name: "petal_length_cm", type: "double" },
    { name: "petal_width_cm", type: "double" },
    { name: "species", type: ["null", "string"], default: null },
    { name: "measured_at", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "day", type: { type: "int", logicalType: "date" } },
    { name: "id", type: { type: "string", logicalType: "uuid" } },
    { name: "price", type: { type: "bytes", logicalType: "decimal", precision: 9, scale: 2 } },
    { name: "tags", type: { type: "map", values: "string" } },
    { name: "colour", type: { type: "enum", name: "Colour", symbols: ["BLUE", "PURPLE", "WHITE"] } },
  ],
};

const IRIS_VALUES = [
  { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2, species: "setosa", measured_at: 1714979289123, day: 19782, id: "7f0d5a8e-1d1b-4f36-9a51-2f3c5d6e7a8b", price: "12345.67", tags: { field: "north" }, colour: "BLUE" },
  { sepal_length_cm: 7.7, sepal_width_cm: 2.6, petal_length_cm: 6.9, petal_width_cm: 2.3, species: null, measured_at: 0, day: 0, id: "00000000-0000-4000-8000-000000000000", price: "-0.05", tags: {}, colour: "PURPLE" },
];

const PREDICTION_JSON_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Prediction",
  type: "object",
  properties: { label: { type: "string" }, score: { type: "number", minimum: 0, maximum: 1 }, probabilities: { type: "array", items: { type: "number" } } },
  required: ["label", "score"],
  additionalProperties: false,
};

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** The registry serdes (src/kafka/schema-registry) against a real registry, with Confluent's Python serializers as the other end. */
describe("Schema Registry serdes (real Apicurio Registry, Python confluent-kafka as the peer)", function () {
  this.timeout(120_000);
  let registry: EmbeddedSchemaRegistry;
  let client: RegistryClient;

  before(async () => {
    registry = await startSchemaRegistry();
    client = new RegistryClient({ urls: [registry.url] });
  });

  after(async () => {
    await registry?.stop();
  });

  it("decodes Avro records Python wrote (logical types, unions, maps, enums) to the documented values, one registry lookup per schema", async () => {
    const records = await pythonWrites(registry.url, "iris-avro-a", "avro", IRIS_VALUES, IRIS_AVRO);
    const decoder = new SchemaDecoder(client);
    const lookups = sinon.spy(client, "schemaById");
    try {
      await decoder.prepare(records);
      await decoder.prepare(records);
      assert.equal(lookups.callCount, 1, "both records carry one schema id, looked up once");
    } finally {
      lookups.restore();
    }
    const decoded = records.map((record) => decoder.decode(record));
    assert.deepEqual(decoded.map((one) => plain(one.payload)), IRIS_VALUES);
    assert.equal(decoded[0].schema.type, "AVRO");
    assert.equal(decoded[0].schema.id, readFrame(records[0]).id);
  });

  it("writes Avro records Python reads back to the same values, under the topic's subject", async () => {
    const encoder = new SchemaEncoder(client, { strategy: "topic", use: { register: { schemaType: "AVRO", schema: JSON.stringify(IRIS_AVRO), references: [] } } });
    await encoder.prepare("iris-avro-b");
    const records = IRIS_VALUES.map((value) => encoder.encode("iris-avro-b", value).toString("hex"));
    assert.deepEqual(await peer("deserialize", registry.url, "iris-avro-b", "avro", records), IRIS_VALUES);
    const latest = await client.version("iris-avro-b-value", "latest");
    assert.equal(latest.id, readFrame(Buffer.from(records[0], "hex")).id);
  });

  it("reads and writes JSON Schema records with Python both ways, and refuses a value that does not fit, naming the field", async () => {
    const values = [{ label: "setosa", score: 0.97, probabilities: [0.97, 0.02, 0.01] }, { label: "virginica", score: 0.6 }];
    const written = await pythonWrites(registry.url, "predictions-json", "json", values, PREDICTION_JSON_SCHEMA);
    const decoder = new SchemaDecoder(client);
    await decoder.prepare(written);
    assert.deepEqual(written.map((record) => decoder.decode(record).payload), values);

    const encoder = new SchemaEncoder(client, { strategy: "topic", use: { latest: true } });
    await encoder.prepare("predictions-json");
    assert.deepEqual(await peer("deserialize", registry.url, "predictions-json", "json", values.map((value) => encoder.encode("predictions-json", value).toString("hex"))), values);
    assert.throws(() => encoder.encode("predictions-json", { label: "setosa", score: 7 }), (error: Error) => error instanceof SchemaMismatchError && /score must be <= 1/.test(error.message));
    assert.throws(() => encoder.encode("predictions-json", { label: "setosa" }), /must have required property 'score'/);
  });

  it("reads and writes Protobuf records with Python both ways: a referenced file, message indexes, 64-bit integers, enums, maps, defaults", async () => {
    const written = await pythonWrites(registry.url, "orders-pb", "protobuf", ORDERS, {});
    assert.deepEqual([...written[0].subarray(5, 7)], [2, 2], "Order is message [1]");
    const decoder = new SchemaDecoder(client);
    await decoder.prepare(written);
    assert.deepEqual(
      written.map((record) => plain(decoder.decode(record).payload)),
      ORDERS,
    );
    assert.equal(decoder.decode(written[0]).schema.type, "PROTOBUF");

    const encoder = new SchemaEncoder(client, { strategy: "topic", recordName: "Order", use: { latest: true } });
    await encoder.prepare("orders-pb");
    const ours = ORDERS.map((order) => encoder.encode("orders-pb", order).toString("hex"));
    assert.deepEqual(await peer("deserialize", registry.url, "orders-pb", "protobuf", ours), ORDERS);
    assert.throws(() => encoder.encode("orders-pb", { id: "o-3", lines: "s1" }), (error: Error) => error instanceof SchemaMismatchError && /lines: array expected/.test(error.message));
  });

  it("keeps reading when producers move to a compatible new version (a field with a default added), each record in the schema it was written in", async () => {
    const v1 = { type: "record", name: "Reading", fields: [{ name: "value", type: "double" }] };
    const v2 = { ...v1, fields: [...v1.fields, { name: "unit", type: "string", default: "cm" }] };
    const first = await pythonWrites(registry.url, "readings", "avro", [{ value: 1.5 }], v1);
    const second = await pythonWrites(registry.url, "readings", "avro", [{ value: 2.5, unit: "mm" }], v2);
    assert.notEqual(readFrame(first[0]).id, readFrame(second[0]).id);
    const decoder = new SchemaDecoder(client);
    await decoder.prepare([...first, ...second]);
    assert.deepEqual(plain(decoder.decode(first[0]).payload), { value: 1.5 });
    assert.deepEqual(plain(decoder.decode(second[0]).payload), { value: 2.5, unit: "mm" });
  });

  it("fails only the records it cannot read: not the wire format, an id the registry does not know, a body that is not its schema's", async () => {
    const [good] = await pythonWrites(registry.url, "iris-avro-a", "avro", [IRIS_VALUES[0]], IRIS_AVRO);
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), good.subarray(5)]);
    const truncated = good.subarray(0, 12);
    const plainJson = Buffer.from(JSON.stringify(IRIS_VALUES[0]));
    const decoder = new SchemaDecoder(client);
    await decoder.prepare([good, unknownId, truncated, plainJson, null]);
    assert.throws(() => decoder.decode(plainJson), (error: Error) => error instanceof NotWireFormatError && /its first byte is 123, not the magic byte 0/.test(error.message));
    assert.throws(() => decoder.decode(null), /a tombstone/);
    assert.throws(() => decoder.decode(unknownId), (error: Error) => error instanceof UnknownSchemaError && /the schema registry has no schema 2147483392/.test(error.message));
    assert.throws(() => decoder.decode(truncated));
    assert.deepEqual(plain(decoder.decode(good).payload), IRIS_VALUES[0]);
  });

  it("answers the schema-registry dialog's Test connection: the subjects a registry holds, or why none answered, with the saved secret when the dialog hides it", async () => {
    await helper.startServer();
    try {
      await helper.load([schemaRegistry], [{ id: "registry", type: "schema-registry", urls: registry.url, auth: "basic" }], { registry: { username: "reader", password: "s3cret" } });
      const subjects = (await client.subjects()).length;
      const test = (body: object) => helper.request().post("/schema-registry/test").send(body);
      assert.deepEqual((await test({ id: "registry", urls: registry.url, auth: "none" })).body, { ok: true, subjects });
      // a registry that notes the credentials it is sent
      const sent: (string | undefined)[] = [];
      const recorder = http.createServer((request, response) => {
        sent.push(request.headers.authorization);
        response.setHeader("Content-Type", "application/json");
        response.end("[]");
      });
      await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
      try {
        const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
        assert.deepEqual((await test({ id: "registry", urls: url, auth: "basic", username: "reader", password: "__PWRD__" })).body, { ok: true, subjects: 0 });
        assert.deepEqual(sent, [`Basic ${Buffer.from("reader:s3cret").toString("base64")}`]);
      } finally {
        recorder.close();
      }
      const down = (await test({ urls: "http://127.0.0.1:9/apis/ccompat/v7", auth: "none" })).body as { ok: boolean; error: string };
      assert.equal(down.ok, false);
      assert.match(down.error, /the schema registry did not answer \(http:\/\/127\.0\.0\.1:9\/apis\/ccompat\/v7: connect ECONNREFUSED/);
      assert.deepEqual((await test({ urls: "ftp://registry", auth: "none" })).body, { ok: false, error: "ftp://registry is not an http:// or https:// URL" });
    } finally {
      await helper.unload();
      await helper.stopServer();
    }
  });

  it("says the registry is unavailable when it does not answer, so the records wait instead of failing", async () => {
    const [good] = await pythonWrites(registry.url, "iris-avro-a", "avro", [IRIS_VALUES[0]], IRIS_AVRO);
    const nowhere = new RegistryClient({ urls: ["http://127.0.0.1:9/apis/ccompat/v7"], timeoutMs: 2000 });
    await assert.rejects(new SchemaDecoder(nowhere).prepare([good]), (error: Error) => error instanceof RegistryUnavailableError && /did not answer/.test(error.message));
  });
});
