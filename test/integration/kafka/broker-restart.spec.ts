import * as assert from "node:assert/strict";
import { TEST_ENGINE } from "../../support/kafka";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Kafka, logLevel, type KafkaMessage } from "kafkajs";
import { freePort, startEmbeddedKafka, type EmbeddedKafka } from "../../../scripts/lib/embedded-kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel } from "../../support/node-red-helper";
import { PETAL_RULES, PYTHON, waitFor } from "../../support/python";

/** A broker of this test's own, stopped and started again on the same ports and data. */
describe(`a broker restart mid-stream (real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(300_000);
  let kafka: EmbeddedKafka | undefined;
  afterEach(async () => {
    await helper.unload();
    await kafka?.stop();
  });

  for (const output of ["record", "batch"] as const) it(`resumes by itself and loses no record (one msg per ${output})`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "restarted-broker-"));
    const [port, controllerPort] = [await freePort(), await freePort()];
    kafka = await startEmbeddedKafka({ dataDir, port, controllerPort });
    const client = new Kafka({ clientId: "restart-test", brokers: [kafka.brokers], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "restart-in", numPartitions: 2 }, { topic: "restart-out", numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const produceBatch = async (from: number, count: number): Promise<void> => {
      const producer = client.producer();
      await producer.connect();
      await producer.send({ topic: "restart-in", messages: Array.from({ length: count }, (_, index) => ({ key: String(from + index), value: "[5.0, 3.4, 1.5, 0.2]" })) });
      await producer.disconnect();
    };

    await helper.load(
      [kafkaBroker, kafkaIn, kafkaOut, pythonModel, catchNode],
      [
        { id: "f1", type: "tab" },
        { id: "broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: kafka.brokers, clientId: "restart-test" },
        { id: "in", type: "kafka-in", z: "f1", broker: "broker", topic: "restart-in", groupId: "restart-group", fromBeginning: true, payloadFormat: "json", outputMode: output, wires: [["model"]] },
        { id: "model", type: "python-model", z: "f1", python: PYTHON, kind: "python", handlerPath: PETAL_RULES, wires: [["out"]] },
        { id: "out", type: "kafka-out", z: "f1", broker: "broker", topic: "restart-out", acks: "all", wires: [] },
      ],
    );
    const seen = new Set<string>();
    const reader = client.consumer({ groupId: "restart-reader" });
    const read = async (): Promise<void> => {
      await reader.connect();
      await reader.subscribe({ topic: "restart-out", fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }: { message: KafkaMessage }) => void seen.add(String(message.key)) });
    };
    await read();

    await produceBatch(0, 200);
    await waitFor(() => seen.size === 200, 60_000, "the first 200 records scored");
    await reader.disconnect();
    await kafka.stop();
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the nodes see the broker gone
    kafka = await startEmbeddedKafka({ dataDir, port, controllerPort });
    await produceBatch(200, 200);
    await read();
    await waitFor(() => seen.size === 400, 120_000, "all 400 records scored after the restart");
    assert.equal(seen.size, 400);
  });
});
