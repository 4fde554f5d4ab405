import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, startEmbeddedKafka, type EmbeddedKafka } from "../../../scripts/lib/embedded-kafka";
import { assertExactlyOnce, exactlyOnceFlow, inputRecords } from "../../support/exactly-once";
import { consume, createTopic, produce } from "../../support/kafka";
import { catchNode, helper, kafkaBroker, kafkaIn, kafkaOut, pythonModel, waitForStatus } from "../../support/node-red-helper";

const RECORDS = 3000;

/** A broker of this test's own, stopped mid-stream and started again on the same ports and data. */
describe("exactly-once across a broker restart mid-stream (real broker) [librdkafka engine]", function () {
  this.timeout(300_000);
  let kafka: EmbeddedKafka | undefined;
  after(async () => {
    await helper.unload();
    await kafka?.stop();
    if (kafka) fs.rmSync(kafka.dataDir, { recursive: true, force: true });
  });

  it("resumes by itself: 0 lost, 0 duplicates", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "eo-restarted-broker-"));
    const [port, controllerPort] = [await freePort(), await freePort()];
    kafka = await startEmbeddedKafka({ dataDir, port, controllerPort });
    const names = { input: "eo-restart-in", output: "eo-restart-out", groupId: "eo-restart-group", brokers: kafka.brokers };
    await createTopic(names.input, 2, kafka.brokers);
    await createTopic(names.output, 1, kafka.brokers);
    await produce(names.input, inputRecords(RECORDS), kafka.brokers);
    const flows = exactlyOnceFlow({ ...names, clientId: "eo-restart" }).filter((node) => (node as { type: string }).type !== "debug");
    await helper.load([kafkaBroker, kafkaIn, pythonModel, kafkaOut, catchNode], flows);

    await consume(names.output, 300, 60_000, kafka.brokers);
    await kafka.stop();
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the nodes see the broker gone
    kafka = await startEmbeddedKafka({ dataDir, port, controllerPort });
    await assertExactlyOnce(names.output, RECORDS, kafka.brokers);
    await waitForStatus("eo-in", /exactly-once/, 30_000, "kafka-in reading again");
  });
});
