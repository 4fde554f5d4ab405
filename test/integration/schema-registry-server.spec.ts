import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { startSchemaRegistry, type EmbeddedSchemaRegistry } from "../../scripts/lib/embedded-schema-registry";

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

const PAYMENT_V1 = {
  type: "record",
  name: "Payment",
  namespace: "test.registry",
  fields: [
    { name: "id", type: "string" },
    { name: "amount", type: "double" },
  ],
};
/** A field without a default: readers of v2 cannot read what v1 wrote, so not BACKWARD compatible. */
const PAYMENT_WITH_REQUIRED_CURRENCY = { ...PAYMENT_V1, fields: [...PAYMENT_V1.fields, { name: "currency", type: "string" }] };

/** A call to the registry's Confluent-compatible API; rejects on an error status, with the registry's answer. */
async function call<T>(registry: EmbeddedSchemaRegistry, method: string, resource: string, body?: unknown): Promise<T> {
  const response = await fetch(`${registry.url}${resource}`, {
    method,
    headers: { "content-type": CONTENT_TYPE, accept: CONTENT_TYPE },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${resource}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** A process that is gone, or a zombie waiting to be reaped. */
function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("the embedded Schema Registry (Apicurio Registry on its Confluent-compatible API)", function () {
  this.timeout(180_000);
  let registry: EmbeddedSchemaRegistry;

  before(async () => {
    registry = await startSchemaRegistry();
  });

  after(async () => {
    await registry?.stop();
  });

  it("serves the Confluent API on loopback and starts with no subjects", async () => {
    assert.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
    assert.deepEqual(await call(registry, "GET", "/subjects"), []);
  });

  it("registers an Avro schema under a subject, and gives it back by id and as the subject's latest version", async () => {
    const { id } = await call<{ id: number }>(registry, "POST", "/subjects/payments-value/versions", { schema: JSON.stringify(PAYMENT_V1) });
    assert.equal(typeof id, "number");

    const byId = await call<{ schema: string; schemaType?: string }>(registry, "GET", `/schemas/ids/${id}`);
    assert.deepEqual(JSON.parse(byId.schema), PAYMENT_V1);
    assert.ok(byId.schemaType === undefined || byId.schemaType === "AVRO", `schemaType ${byId.schemaType}`);

    const latest = await call<{ subject: string; version: number; id: number; schema: string }>(registry, "GET", "/subjects/payments-value/versions/latest");
    assert.deepEqual({ ...latest, schema: JSON.parse(latest.schema) }, { subject: "payments-value", version: 1, id, schema: PAYMENT_V1 });

    const again = await call<{ id: number }>(registry, "POST", "/subjects/payments-value/versions", { schema: JSON.stringify(PAYMENT_V1) });
    assert.equal(again.id, id, "the same schema registered again keeps its id");
  });

  it("keeps a compatibility level per subject and checks a new schema against it", async () => {
    assert.ok(typeof (await call<{ compatibilityLevel: string }>(registry, "GET", "/config")).compatibilityLevel === "string");
    await call(registry, "PUT", "/config/payments-value", { compatibility: "BACKWARD" });
    assert.deepEqual(await call(registry, "GET", "/config/payments-value"), { compatibilityLevel: "BACKWARD" });

    const check = (schema: object): Promise<{ is_compatible: boolean }> =>
      call(registry, "POST", "/compatibility/subjects/payments-value/versions/latest", { schema: JSON.stringify(schema) });
    assert.equal((await check(PAYMENT_WITH_REQUIRED_CURRENCY)).is_compatible, false);
    const withDefault = { ...PAYMENT_V1, fields: [...PAYMENT_V1.fields, { name: "currency", type: "string", default: "EUR" }] };
    assert.equal((await check(withDefault)).is_compatible, true);
  });

  it("ends its JVM when stopped", async () => {
    const { pid } = registry;
    assert.ok(!gone(pid), `the JVM (pid ${pid}) runs before the stop`);
    await registry.stop();
    const deadline = Date.now() + 5_000;
    while (!gone(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(gone(pid), `the JVM (pid ${pid}) is still running after the stop`);
  });
});
