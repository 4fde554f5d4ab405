import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startEmbeddedKafka, type EmbeddedKafka } from "../../../scripts/lib/embedded-kafka";
import { consume, createTopic, produce, TEST_ENGINE, uniqueName } from "../../support/kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, waitForStatus } from "../../support/node-red-helper";
import { PETAL_RULES, PYTHON, waitFor } from "../../support/python";
import { startTokenIssuer, type TokenIssuer } from "../../support/token-issuer";

const FLOW_CLIENT = { id: "scoring-flow", secret: "s3cret-of-the-flow" };
/** A client the issuer knows, whose tokens are meant for another service. */
const OTHER_CLIENT = { id: "billing-service", secret: "s3cret-of-billing" };
const TOKEN_LIFETIME_S = 10;

/**
 * kafka-broker's SASL/OAUTHBEARER against a broker of its own whose OAUTHBEARER listener
 * checks JWTs with Kafka's own validator against the JWKS of a token issuer on loopback;
 * the issuer's tokens live 10 s, and the broker makes clients log in again before theirs expire.
 */
describe(`kafka-broker SASL/OAUTHBEARER with OIDC client credentials on a real broker [${TEST_ENGINE} engine]`, function () {
  this.timeout(180_000);
  let issuer: TokenIssuer;
  let kafka: EmbeddedKafka;

  before(async () => {
    issuer = await startTokenIssuer(
      { [FLOW_CLIENT.id]: { secret: FLOW_CLIENT.secret, audience: "kafka" }, [OTHER_CLIENT.id]: { secret: OTHER_CLIENT.secret, audience: "billing" } },
      TOKEN_LIFETIME_S,
    );
    kafka = await startEmbeddedKafka({
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "kafka-oauth-")),
      port: 0,
      controllerPort: 0,
      oauth: { jwksUrl: issuer.jwksUrl, issuer: issuer.url, audience: "kafka", reauthenticateMs: 60_000 },
    });
  });

  after(async () => {
    await kafka?.stop();
    if (kafka) fs.rmSync(kafka.dataDir, { recursive: true, force: true });
    await issuer?.stop();
  });

  afterEach(async () => {
    await helper.unload();
  });

  const oauthBroker = (client: { id: string }, extra: object = {}) => ({
    id: "oauth-broker",
    type: "kafka-broker",
    engine: TEST_ENGINE,
    clientId: "oauth-test",
    brokers: kafka.oauth,
    saslMechanism: "oauthbearer",
    oauthTokenEndpoint: issuer.tokenEndpoint,
    oauthClientId: client.id,
    oauthScope: "kafka",
    ...extra,
  });

  /** kafka-in -> python-model -> kafka-out, every client on the OAUTHBEARER listener. */
  async function loadScoringFlow(input: string, output: string): Promise<void> {
    await helper.load(
      [kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode],
      [
        { id: "oauth-tab", type: "tab" },
        oauthBroker(FLOW_CLIENT),
        { id: "reader", type: "kafka-in", z: "oauth-tab", broker: "oauth-broker", topic: input, groupId: uniqueName("oauth"), fromBeginning: true, payloadFormat: "json", deliveryMode: "at-least-once", wires: [["model"]] },
        { id: "model", type: "python-model", z: "oauth-tab", python: PYTHON, kind: "python", handlerPath: PETAL_RULES, batchSize: 64, maxWaitMs: 5, timeoutMs: 30000, wires: [["writer"]] },
        { id: "writer", type: "kafka-out", z: "oauth-tab", broker: "oauth-broker", topic: output, acks: "all", wires: [] },
        { id: "catcher", type: "catch", z: "oauth-tab", scope: null, wires: [["caught"]] },
        { id: "caught", type: "helper", z: "oauth-tab" },
      ],
      { "oauth-broker": { oauthClientSecret: FLOW_CLIENT.secret } },
    );
  }

  const row = (index: number) => ({ key: String(index), value: JSON.stringify([5.0 + (index % 3), 3.4, 1.5 + (index % 5), 0.2]) });

  it("scores records end to end with a token from the issuer, checked by the broker", async () => {
    const input = uniqueName("oauth-in");
    const output = uniqueName("oauth-out");
    await createTopic(input, 2, kafka.brokers);
    await createTopic(output, 1, kafka.brokers);
    const issuedBefore = issuer.issued(FLOW_CLIENT.id);
    await produce(input, Array.from({ length: 50 }, (_, index) => row(index)), kafka.brokers);
    await loadScoringFlow(input, output);
    const records = await consume(output, 50, 60_000, kafka.brokers);
    assert.deepEqual(new Set(records.map((record) => String(record.key))), new Set(Array.from({ length: 50 }, (_, index) => String(index))));
    assert.ok(records.every((record) => typeof (JSON.parse(String(record.value)) as { label: unknown }).label === "string"), "each record carries a prediction");
    assert.ok(issuer.issued(FLOW_CLIENT.id) > issuedBefore, "the nodes asked the issuer for a token");
  });

  it("gets a new token before the old one expires mid-stream, and loses nothing", async () => {
    const input = uniqueName("oauth-long-in");
    const output = uniqueName("oauth-long-out");
    await createTopic(input, 1, kafka.brokers);
    await createTopic(output, 1, kafka.brokers);
    await loadScoringFlow(input, output);
    const issuedBefore = issuer.issued(FLOW_CLIENT.id);
    // about three token lifetimes of records, a batch a second
    const seconds = 3 * TOKEN_LIFETIME_S;
    const perSecond = 20;
    for (let second = 0; second < seconds; second++) {
      await produce(input, Array.from({ length: perSecond }, (_, index) => row(second * perSecond + index)), kafka.brokers);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const records = await consume(output, seconds * perSecond, 60_000, kafka.brokers);
    const keys = new Set(records.map((record) => String(record.key)));
    assert.equal(keys.size, seconds * perSecond, "every record scored once it was written");
    const issued = issuer.issued(FLOW_CLIENT.id) - issuedBefore;
    assert.ok(issued >= 3, `tokens were refreshed while the stream ran (${issued} issued in ${seconds} s of 10 s tokens)`);
    // a retry of the client's shows for 5 s (yellow) and passes: well again by then, and staying so
    await waitForStatus("reader", /^(subscribed|\d+ received)/, 10_000, "kafka-in is well again after the refreshes");
  });

  it("shows the token endpoint's answer to a wrong client secret in the status", async () => {
    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "oauth-tab", type: "tab" },
        oauthBroker(FLOW_CLIENT),
        { id: "reader", type: "kafka-in", z: "oauth-tab", broker: "oauth-broker", topic: uniqueName("denied"), groupId: uniqueName("denied"), wires: [] },
      ],
      { "oauth-broker": { oauthClientSecret: "not-the-secret" } },
    );
    await waitForStatus("reader", /^error: token endpoint: invalid_client/, 60_000, "the token endpoint's error in kafka-in's status");
  });

  it("shows the broker's refusal of a token meant for another audience", async () => {
    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "oauth-tab", type: "tab" },
        oauthBroker(OTHER_CLIENT),
        { id: "reader", type: "kafka-in", z: "oauth-tab", broker: "oauth-broker", topic: uniqueName("audience"), groupId: uniqueName("audience"), wires: [] },
      ],
      { "oauth-broker": { oauthClientSecret: OTHER_CLIENT.secret } },
    );
    // as each engine can tell it: librdkafka reads the broker's answer, kafkajs only sees its next request refused
    await waitForStatus("reader", /^error: .*(SASL authentication error: \{"status":"invalid_token"\}|the broker refused the OAuth token)/, 60_000, "the broker's refusal in kafka-in's status");
    assert.ok(issuer.issued(OTHER_CLIENT.id) >= 1, "the issuer did give it a token: the broker refused it");
    await waitFor(() => /Audience \(aud\) claim \[billing\] doesn't contain an acceptable identifier/.test(kafka.log()), 10_000, "the broker logged why it refused the token");
  });
});
