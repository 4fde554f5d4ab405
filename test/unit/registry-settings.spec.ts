import * as assert from "node:assert/strict";
import { encoderSettings, registrySettings } from "../../src/kafka/schema-registry/registry-settings";

describe("schema registry settings from the nodes' configuration", () => {
  it("takes comma-separated URLs and the chosen auth's secrets only", () => {
    assert.deepEqual(registrySettings({ urls: " http://a:8081, https://b/apis/ccompat/v7 ", auth: "basic" }, { username: "u", password: "p", token: "t" }), {
      urls: ["http://a:8081", "https://b/apis/ccompat/v7"],
      ca: undefined,
      username: "u",
      password: "p",
    });
    assert.deepEqual(registrySettings({ urls: "http://a", auth: "bearer" }, { username: "u", token: "t", ca: " PEM " }), { urls: ["http://a"], ca: "PEM", token: "t" });
    assert.throws(() => registrySettings({ urls: "a:8081", auth: "none" }, {}), /a:8081 is not an http:\/\/ or https:\/\/ URL/);
  });

  it("makes an OAuth token source for auth oauth, with Confluent Cloud's headers when given, and names what is missing", () => {
    const oauth = { urls: "https://psrc.example", auth: "oauth", oauthTokenEndpoint: "https://issuer.example/token", oauthClientId: "flow" };
    const settings = registrySettings({ ...oauth, oauthLogicalCluster: " lsrc-1 ", oauthIdentityPool: "pool-2" }, { oauthClientSecret: "s", token: "ignored" });
    assert.ok(settings.tokens, "a token source");
    assert.equal(settings.token, undefined);
    assert.deepEqual(settings.headers, { "target-sr-cluster": "lsrc-1", "Confluent-Identity-Pool-Id": "pool-2" });
    assert.equal(registrySettings(oauth, { oauthClientSecret: "s" }).headers, undefined);
    assert.throws(() => registrySettings(oauth, {}), /missing: clientSecret/);
  });

  it("says which writer setting cannot be used", () => {
    assert.deepEqual(encoderSettings({}), { strategy: "topic", recordName: undefined, use: { latest: true } });
    assert.deepEqual(encoderSettings({ schemaSource: "version", schemaVersion: "3" }).use, { version: 3 });
    assert.deepEqual(encoderSettings({ schemaSource: "register", schemaType: "JSON", schemaText: " {} " }).use, { register: { schemaType: "JSON", schema: "{}", references: [] } });
    assert.throws(() => encoderSettings({ schemaSource: "id", schemaId: "x" }), /the schema id must be a whole number from 1, not "x"/);
    assert.throws(() => encoderSettings({ schemaSource: "register" }), /registering a schema needs the schema/);
    assert.throws(() => encoderSettings({ subjectStrategy: "record" }), /the record subject strategy needs the record name/);
  });
});
