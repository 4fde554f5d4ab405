import * as assert from "node:assert/strict";
import { parseExtensions, securityOptions, SecurityConfigError, type SecurityConfig } from "../../src/kafka/security";

const CA = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----";
const CERT = "-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----";
const KEY = "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----";

function config(overrides: Partial<SecurityConfig>): SecurityConfig {
  return { tls: false, tlsVerify: true, ca: {}, cert: {}, key: {}, sasl: "none", ...overrides };
}

const files: Record<string, string> = { "/certs/ca.pem": CA, "/certs/client.pem": CERT, "/certs/client.key": KEY, "/certs/notes.txt": "not a certificate" };
function readFile(file: string): string {
  if (!(file in files)) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
  return files[file];
}

describe("kafka-broker security settings", () => {
  it("gives a plain connection when neither TLS nor SASL is chosen, whatever else is filled in", () => {
    assert.deepEqual(securityOptions(config({ ca: { pasted: CA }, username: "ignored" }), readFile), {});
  });

  it("verifies the broker by default and takes pasted PEM over a file", () => {
    const { ssl } = securityOptions(config({ tls: true, ca: { pasted: `  ${CA}\n`, file: "/certs/missing.pem" } }), readFile);
    assert.deepEqual(ssl, { rejectUnauthorized: true, ca: [CA] });
  });

  it("reads the CA, client certificate and key from files, with the key's passphrase", () => {
    const { ssl } = securityOptions(
      config({ tls: true, tlsVerify: false, ca: { file: "/certs/ca.pem" }, cert: { file: "/certs/client.pem" }, key: { file: "/certs/client.key" }, passphrase: "secret" }),
      readFile,
    );
    assert.deepEqual(ssl, { rejectUnauthorized: false, ca: [CA], cert: CERT, key: KEY, passphrase: "secret" });
  });

  it("names the file it cannot read, and a file that holds no PEM", () => {
    assert.throws(() => securityOptions(config({ tls: true, ca: { file: "/certs/missing.pem" } }), readFile), {
      name: "SecurityConfigError",
      message: /cannot read the CA certificate file \/certs\/missing\.pem: ENOENT/,
    });
    assert.throws(() => securityOptions(config({ tls: true, cert: { file: "/certs/notes.txt" }, key: { pasted: KEY } }), readFile), /client certificate file \/certs\/notes\.txt holds no PEM block/);
  });

  it("refuses a client certificate without its key and a key without its certificate", () => {
    assert.throws(() => securityOptions(config({ tls: true, cert: { pasted: CERT } }), readFile), SecurityConfigError);
    assert.throws(() => securityOptions(config({ tls: true, key: { pasted: KEY } }), readFile), /give both or neither/);
  });

  it("passes SASL mechanisms with their username and password, and needs both", () => {
    for (const mechanism of ["plain", "scram-sha-256", "scram-sha-512"] as const) {
      assert.deepEqual(securityOptions(config({ sasl: mechanism, username: "user", password: "pw" }), readFile), { sasl: { mechanism, username: "user", password: "pw" } });
    }
    assert.throws(() => securityOptions(config({ sasl: "scram-sha-512", username: "user" }), readFile), /SASL SCRAM-SHA-512 needs a username and a password/);
    assert.throws(() => securityOptions(config({ sasl: "gssapi" as never, username: "user", password: "pw" }), readFile), /unknown SASL mechanism "gssapi"/);
  });

  it("takes OAUTHBEARER with its token endpoint, client id and secret, and names what is missing or wrong", () => {
    const oauth = { tokenEndpoint: "https://issuer.example/oauth2/token", clientId: "flow", clientSecret: "s" };
    const options = securityOptions(config({ sasl: "oauthbearer", oauth, oauthExtensions: "logicalCluster=lkc-1, identityPoolId=pool-2" }), readFile);
    assert.equal((options.sasl as { mechanism: string }).mechanism, "oauthbearer");
    assert.equal(typeof (options.sasl as { oauthBearerProvider?: unknown }).oauthBearerProvider, "function", "kafkajs gets a token provider");
    assert.deepEqual(options.oauthBearer?.extensions, { logicalCluster: "lkc-1", identityPoolId: "pool-2" });
    assert.throws(() => securityOptions(config({ sasl: "oauthbearer" }), readFile), SecurityConfigError);
    assert.throws(() => securityOptions(config({ sasl: "oauthbearer", oauth: { ...oauth, clientSecret: "" } }), readFile), /missing: clientSecret/);
    assert.throws(() => securityOptions(config({ sasl: "oauthbearer", oauth: { ...oauth, tokenEndpoint: "issuer.example/token" } }), readFile), /is not a URL/);
    assert.throws(() => securityOptions(config({ sasl: "oauthbearer", oauth: { ...oauth, tokenEndpoint: "ftp://issuer.example/token" } }), readFile), /must be an https:\/\/ \(or http:\/\/\) URL, not ftp:/);
  });

  it("reads SASL extensions as name=value pairs and refuses anything else", () => {
    assert.deepEqual(parseExtensions(""), {});
    assert.deepEqual(parseExtensions(" a=1 ,b = x=y "), { a: "1", b: "x=y" });
    assert.throws(() => parseExtensions("a=1,oops"), /the SASL extension "oops" is not name=value/);
  });
});
