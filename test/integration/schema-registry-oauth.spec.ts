import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSchemaRegistry, type EmbeddedSchemaRegistry } from "../../scripts/lib/embedded-schema-registry";
import { RegistryUnavailableError } from "../../src/kafka/schema-registry/registry-client";
import { SchemaDecoder, SchemaEncoder } from "../../src/kafka/schema-registry/serdes";
import type { SchemaRegistryNode } from "../../src/nodes/node-config";
import { helper, schemaRegistry } from "../support/node-red-helper";
import { startTokenIssuer, type TokenIssuer } from "../support/token-issuer";

const FLOW_CLIENT = { id: "scoring-flow", secret: "s3cret-of-the-flow" };
const KAFKA_ONLY_CLIENT = { id: "kafka-only", secret: "s3cret-for-kafka" };

const PREDICTION_AVRO = {
  type: "record",
  name: "Prediction",
  namespace: "iris",
  fields: [
    { name: "label", type: "string" },
    { name: "score", type: "double" },
  ],
};

/**
 * The schema-registry node with OAuth 2 bearer tokens against Apicurio Registry with its
 * OIDC check on (Quarkus OIDC: the issuer's discovery document, JWKS and the audience).
 */
describe("schema-registry node with OAuth 2 client credentials (real Apicurio Registry asking for tokens)", function () {
  this.timeout(120_000);
  let issuer: TokenIssuer;
  let registry: EmbeddedSchemaRegistry;
  let logDir: string;

  before(async () => {
    issuer = await startTokenIssuer(
      { [FLOW_CLIENT.id]: { secret: FLOW_CLIENT.secret, audience: "schema-registry" }, [KAFKA_ONLY_CLIENT.id]: { secret: KAFKA_ONLY_CLIENT.secret, audience: "kafka" } },
      60,
    );
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-oauth-"));
    registry = await startSchemaRegistry({ logFile: path.join(logDir, "registry.log"), oidc: { issuerUrl: issuer.url, audience: "schema-registry" } });
  });

  after(async () => {
    await registry?.stop();
    await issuer?.stop();
    if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await helper.unload();
  });

  const oauthNode = (client: { id: string }) => ({
    id: "registry",
    type: "schema-registry",
    urls: registry.url,
    auth: "oauth",
    oauthTokenEndpoint: issuer.tokenEndpoint,
    oauthClientId: client.id,
    oauthAudience: "schema-registry",
  });

  it("registers, writes and reads records with tokens from the issuer", async () => {
    await helper.load([schemaRegistry], [oauthNode(FLOW_CLIENT)], { registry: { oauthClientSecret: FLOW_CLIENT.secret } });
    const client = (helper.getNode("registry") as unknown as SchemaRegistryNode).client;
    assert.ok(client, "the node made its client");
    const issuedBefore = issuer.issued(FLOW_CLIENT.id);
    const encoder = new SchemaEncoder(client, { strategy: "topic", use: { register: { schemaType: "AVRO", schema: JSON.stringify(PREDICTION_AVRO), references: [] } } });
    await encoder.prepare("oauth-predictions");
    const value = { label: "setosa", score: 0.97 };
    const record = encoder.encode("oauth-predictions", value);
    // a decoder of its own asks the registry for the schema by id
    const fresh = new SchemaEncoder(client, { strategy: "topic", use: { latest: true } });
    await fresh.prepare("oauth-predictions");
    const decoder = new SchemaDecoder(client);
    await decoder.prepare([record]);
    assert.deepEqual(JSON.parse(JSON.stringify(decoder.decode(record).payload)), value);
    assert.equal(issuer.issued(FLOW_CLIENT.id) - issuedBefore, 1, "one token for every request of the node");
  });

  it("answers Test connection with the saved client secret, and says why a registry refuses the settings", async () => {
    await helper.startServer();
    try {
      await helper.load([schemaRegistry], [oauthNode(FLOW_CLIENT)], { registry: { oauthClientSecret: FLOW_CLIENT.secret } });
      const test = async (body: object) => (await helper.request().post("/schema-registry/test").send(body)).body as { ok: boolean; subjects?: number; error?: string };
      const settings = { ...oauthNode(FLOW_CLIENT), id: "registry" };
      assert.equal((await test({ ...settings, oauthClientSecret: "__PWRD__" })).ok, true, "the saved secret is used");
      const wrongSecret = await test({ ...settings, oauthClientSecret: "not-the-secret" });
      assert.match(wrongSecret.error ?? "", /no OAuth token for the schema registry: token endpoint: invalid_client \(client authentication failed\)/);
      const anonymous = await test({ urls: registry.url, auth: "none" });
      assert.match(anonymous.error ?? "", /the schema registry refused the credentials \(401: User is not authenticated\.\)/);
      const otherAudience = await test({ ...oauthNode(KAFKA_ONLY_CLIENT), oauthAudience: "", oauthClientSecret: KAFKA_ONLY_CLIENT.secret });
      assert.match(otherAudience.error ?? "", /the schema registry refused the credentials \(401/, "a token meant for Kafka is refused");
    } finally {
      await helper.unload();
      await helper.stopServer();
    }
  });

  it("makes records wait rather than fail when no token can be had", async () => {
    await helper.load([schemaRegistry], [oauthNode(FLOW_CLIENT)], { registry: { oauthClientSecret: "not-the-secret" } });
    const client = (helper.getNode("registry") as unknown as SchemaRegistryNode).client;
    assert.ok(client);
    const record = Buffer.from([0, 0, 0, 0, 1, 2, 3]);
    await assert.rejects(new SchemaDecoder(client).prepare([record]), (error: Error) => error instanceof RegistryUnavailableError && /invalid_client/.test(error.message));
  });
});
