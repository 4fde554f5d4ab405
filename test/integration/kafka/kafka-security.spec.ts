import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { KafkaMessage } from "kafkajs";
import { freePort, startEmbeddedKafka, type EmbeddedKafka } from "../../../scripts/lib/embedded-kafka";
import { deployFlows, startNodeRed } from "../../../scripts/lib/node-red-process";
import { makeCertificates, type TestCertificates } from "../../support/certificates";
import { consume, createTopic, produce, TEST_ENGINE, uniqueName } from "../../support/kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, statusOf, waitForStatus } from "../../support/node-red-helper";

const USER = { name: "flow-user", password: "pa55-for-scram-and-plain" };

/**
 * kafka-broker's TLS and SASL settings against a broker of its own with a TLS listener
 * that requires a client certificate and a SASL listener over TLS, its certificates
 * made by openssl for this run.
 */
describe(`kafka-broker security: TLS and SASL on a real broker [${TEST_ENGINE} engine]`, function () {
  this.timeout(180_000);
  let certificates: TestCertificates;
  let kafka: EmbeddedKafka;
  let listeners: { tls: string; saslTls: string };

  before(async () => {
    certificates = await makeCertificates();
    kafka = await startEmbeddedKafka({
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "kafka-secure-")),
      port: 0,
      controllerPort: 0,
      secure: { keyAndCertificatePem: certificates.brokerKeyAndCert, trustedCaPem: certificates.caCert, users: [USER] },
    });
    listeners = kafka.secure as { tls: string; saslTls: string };
  });

  after(async () => {
    await kafka?.stop();
    if (kafka) fs.rmSync(kafka.dataDir, { recursive: true, force: true });
    if (certificates) fs.rmSync(certificates.dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await helper.unload();
  });

  const pem = (file: string): string => fs.readFileSync(file, "utf8");

  /** Creates both topics (a reader cannot subscribe to a topic that does not exist yet) and writes one record. */
  async function produceOne(topic: string, key: string, outputTopic: string): Promise<void> {
    // the test itself writes and reads through the plaintext listener
    await createTopic(topic, 1, kafka.brokers);
    await createTopic(outputTopic, 1, kafka.brokers);
    await produce(topic, [{ key, value: JSON.stringify({ key }) }], kafka.brokers);
  }

  async function readOne(topic: string, timeoutMs: number): Promise<KafkaMessage> {
    const [record] = await consume(topic, 1, timeoutMs, kafka.brokers);
    return record;
  }

  /** kafka-in -> kafka-out through the given broker settings: one record makes the round trip. */
  async function roundTrip(broker: object, credentials: object): Promise<void> {
    const input = uniqueName("secure-in");
    const output = uniqueName("secure-out");
    const key = uniqueName("record");
    await produceOne(input, key, output);
    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut],
      [
        { id: "secure-tab", type: "tab" },
        { id: "secure-broker", type: "kafka-broker", engine: TEST_ENGINE, clientId: "security-test", ...broker },
        { id: "reader", type: "kafka-in", z: "secure-tab", broker: "secure-broker", topic: input, groupId: uniqueName("secure"), fromBeginning: true, wires: [["writer"]] },
        { id: "writer", type: "kafka-out", z: "secure-tab", broker: "secure-broker", topic: output, acks: "all", wires: [] },
      ],
      { "secure-broker": credentials },
    );
    const record = await readOne(output, 60_000);
    assert.equal(String(record.key), key);
    assert.deepEqual(JSON.parse(String(record.value)), { key });
  }

  it("connects over mutual TLS with the CA, certificate and key pasted as credentials", async () => {
    await roundTrip(
      { brokers: listeners.tls, tls: true },
      { tlsCa: pem(certificates.caCert), tlsCert: pem(certificates.clientCert), tlsKey: pem(certificates.clientKey) },
    );
  });

  it("connects over mutual TLS with the CA, certificate and key read from files", async () => {
    await roundTrip(
      { brokers: listeners.tls, tls: true, tlsCaFile: certificates.caCert, tlsCertFile: certificates.clientCert, tlsKeyFile: certificates.clientKey },
      {},
    );
  });

  for (const mechanism of ["scram-sha-256", "scram-sha-512", "plain"]) {
    it(`authenticates with SASL ${mechanism.toUpperCase()} over TLS`, async () => {
      await roundTrip(
        { brokers: listeners.saslTls, tls: true, tlsCaFile: certificates.caCert, saslMechanism: mechanism },
        { username: USER.name, password: USER.password },
      );
    });
  }

  it("verifies the broker's certificate by default, and connects when verification is turned off", async () => {
    const topic = uniqueName("verify");
    await createTopic(topic, 1, kafka.brokers);
    const reader = (brokerExtra: object) => [
      { id: "secure-tab", type: "tab" },
      { id: "secure-broker", type: "kafka-broker", engine: TEST_ENGINE, clientId: "security-test", brokers: listeners.saslTls, tls: true, saslMechanism: "scram-sha-256", ...brokerExtra },
      { id: "reader", type: "kafka-in", z: "secure-tab", broker: "secure-broker", topic, groupId: uniqueName("verify"), wires: [] },
    ];
    const credentials = { "secure-broker": { username: USER.name, password: USER.password } };
    // a CA that did not sign the broker's certificate
    await helper.load([kafkaBroker, kafkaIn], reader({ tlsCaFile: certificates.otherCaCert }), credentials);
    // as each engine's TLS stack says it: Node's (kafkajs) or OpenSSL's (librdkafka, which gives up after its connect timeout)
    await waitForStatus("reader", /^(connecting|error): .*(unable to verify the first certificate|certificate verify failed)/, 60_000, "a certificate error in kafka-in's status");
    await helper.unload();

    await helper.load([kafkaBroker, kafkaIn], reader({ tlsCaFile: certificates.otherCaCert, tlsVerify: false }), credentials);
    await waitForStatus("reader", "subscribed", 60_000, "kafka-in subscribed without verification");
  });

  it("shows a wrong password as an authentication error and keeps running", async () => {
    await helper.load(
      [kafkaBroker, kafkaIn],
      [
        { id: "secure-tab", type: "tab" },
        { id: "secure-broker", type: "kafka-broker", engine: TEST_ENGINE, clientId: "security-test", brokers: listeners.saslTls, tls: true, tlsCaFile: certificates.caCert, saslMechanism: "scram-sha-512" },
        { id: "reader", type: "kafka-in", z: "secure-tab", broker: "secure-broker", topic: uniqueName("denied"), groupId: uniqueName("denied"), wires: [] },
      ],
      { "secure-broker": { username: USER.name, password: "not-the-password" } },
    );
    await waitForStatus("reader", /^error: .*SASL.*authentication (failed|error)/i, 60_000, "an authentication error in kafka-in's status");
  });

  it("reports a setting that cannot work at deploy: a client certificate without its key", async () => {
    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut, catchNode],
      [
        { id: "secure-tab", type: "tab" },
        { id: "secure-broker", type: "kafka-broker", engine: TEST_ENGINE, clientId: "security-test", brokers: listeners.tls, tls: true, tlsCertFile: certificates.clientCert },
        { id: "reader", type: "kafka-in", z: "secure-tab", broker: "secure-broker", topic: uniqueName("half"), groupId: uniqueName("half"), wires: [] },
        { id: "writer", type: "kafka-out", z: "secure-tab", broker: "secure-broker", topic: uniqueName("half"), wires: [] },
        { id: "errors", type: "catch", z: "secure-tab", scope: null, wires: [["caught"]] },
        { id: "caught", type: "helper", z: "secure-tab" },
      ],
    );
    for (const node of ["reader", "writer"]) assert.match(statusOf(node), /^Security settings: a client certificate needs its private key/);
    const caught = new Promise<{ error: { message: string } }>((resolve) => helper.getNode("caught").on("input", resolve));
    helper.getNode("writer").receive({ payload: "x" });
    assert.match((await caught).error.message, /Security settings: a client certificate needs its private key/, "a message to the node is answered, not dropped");
  });

  it("keeps secrets out of the flow: Node-RED's admin API and flow file never show them, yet the deployed flow authenticates", async () => {
    const nodeRed = await startNodeRed({ userDir: fs.mkdtempSync(path.join(os.tmpdir(), "node-red-secrets-")), port: await freePort(), flows: [] });
    try {
      const input = uniqueName("secret-in");
      const output = uniqueName("secret-out");
      const key = uniqueName("record");
      await produceOne(input, key, output);
      const clientKey = pem(certificates.clientKey);
      await deployFlows(nodeRed.url, [
        { id: "secret-tab", type: "tab", label: "secrets" },
        {
          id: "secret-broker",
          type: "kafka-broker", engine: TEST_ENGINE,
          brokers: listeners.saslTls,
          clientId: "secret-test",
          tls: true,
          tlsCaFile: certificates.caCert,
          saslMechanism: "scram-sha-256",
          // the editor sends credentials with the node; Node-RED moves them to its credential store
          // (the listener does not ask for a client certificate; one offered is ignored)
          credentials: { username: USER.name, password: USER.password, tlsCert: pem(certificates.clientCert), tlsKey: clientKey },
        },
        { id: "secret-reader", type: "kafka-in", z: "secret-tab", broker: "secret-broker", topic: input, groupId: uniqueName("secret"), fromBeginning: true, wires: [["secret-writer"]] },
        { id: "secret-writer", type: "kafka-out", z: "secret-tab", broker: "secret-broker", topic: output, wires: [] },
      ]);
      const record = await readOne(output, 60_000);
      assert.equal(String(record.key), key, "the deployed flow authenticated with the stored credentials");

      const exported = await (await fetch(`${nodeRed.url}/flows`)).text();
      const flowFile = fs.readFileSync(path.join(nodeRed.userDir, "flows.json"), "utf8");
      const credentialFile = fs.readFileSync(path.join(nodeRed.userDir, "flows_cred.json"), "utf8");
      const keyBody = clientKey.split("\n")[1];
      for (const [where, text] of Object.entries({ "the admin API": exported, "flows.json": flowFile, "flows_cred.json (encrypted)": credentialFile })) {
        assert.ok(!text.includes(USER.password), `the password is not in ${where}`);
        assert.ok(!text.includes(keyBody), `the private key is not in ${where}`);
      }
      assert.ok(exported.includes("secret-broker"), "the export does contain the broker node");
    } finally {
      await nodeRed.stop();
      fs.rmSync(nodeRed.userDir, { recursive: true, force: true });
    }
  });
});
