import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../scripts/lib/embedded-kafka";
import { startNodeRed, type NodeRedProcess } from "../../../scripts/lib/node-red-process";
import { committedOffsets, consume, createTopic, endOffsets, type GroupMember, groupMembers, produce, TEST_ENGINE, testBrokers, uniqueName } from "../../support/kafka";
import { HOLDOUT, PETAL_RULES, PYTHON, waitFor } from "../../support/python";

const RECORDS = 2000;
const PARTITIONS = 4;
const INSTANCES = ["scale-out-a", "scale-out-b"];

/**
 * The one flow both instances run. Node-RED puts the environment variable
 * SCALE_OUT_INSTANCE in the broker's client id (a property that is exactly `${NAME}`),
 * so the group's members can be told apart, and a change node writes it into each
 * record's headers together with the partition the record came from.
 */
function scaleOutFlow(input: string, output: string, groupId: string, outputMode: "record" | "batch"): object[] {
  const recordStamp = {
    type: "change",
    rules: [
      { t: "set", p: "headers.instance", pt: "msg", to: "SCALE_OUT_INSTANCE", tot: "env" },
      { t: "set", p: "headers.source-partition", pt: "msg", to: "partition", tot: "msg" },
    ],
  };
  // a batch's records keep their headers in msg.kafka.headers, one object per row
  const batchStamp = {
    type: "function",
    func: 'const instance = env.get("SCALE_OUT_INSTANCE");\nmsg.kafka.headers = msg.kafka.headers.map((headers) => ({ ...headers, instance, "source-partition": String(msg.partition) }));\nreturn msg;',
    outputs: 1,
  };
  return [
    { id: "so-flow", type: "tab", label: "scale-out" },
    { id: "so-broker", type: "kafka-broker", engine: TEST_ENGINE, brokers: testBrokers(), clientId: "${SCALE_OUT_INSTANCE}" },
    { id: "so-reader", type: "kafka-in", z: "so-flow", broker: "so-broker", topic: input, groupId, fromBeginning: true, payloadFormat: "json", deliveryMode: "at-least-once", maxUnsettled: 200, outputMode, batchRecords: 50, wires: [["so-stamp"]] },
    { id: "so-stamp", z: "so-flow", name: "stamp the instance", ...(outputMode === "batch" ? batchStamp : recordStamp), wires: [["so-model"]] },
    { id: "so-model", type: "python-model", z: "so-flow", kind: "python", handlerPath: PETAL_RULES, python: PYTHON, batchSize: 64, maxWaitMs: 5, timeoutMs: 30000, wires: [["so-writer"]] },
    { id: "so-writer", type: "kafka-out", z: "so-flow", broker: "so-broker", topic: output, acks: "all", wires: [] },
    { id: "so-catch", type: "catch", z: "so-flow", scope: null, uncaught: false, wires: [["so-failures"]] },
    { id: "so-failures", type: "debug", z: "so-flow", name: "failed records", active: true, tosidebar: false, console: true, complete: "true", targetType: "full", wires: [] },
  ];
}

/** Horizontal scaling: the same flow in two Node-RED processes, one consumer group. */
describe(`two Node-RED processes sharing a consumer group (real runtimes, real broker) [${TEST_ENGINE} engine]`, function () {
  this.timeout(300_000);
  const runtimes: NodeRedProcess[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  for (const outputMode of ["record", "batch"] as const) it(`split the partitions between them and score every record exactly once, each by the instance that owns its partition (one msg per ${outputMode})`, async () => {
    const input = uniqueName("scale-in");
    const output = uniqueName("scale-out");
    const groupId = uniqueName("scale-group");
    await createTopic(input, PARTITIONS);
    await createTopic(output, 1);
    const flows = scaleOutFlow(input, output, groupId, outputMode);
    for (const instance of INSTANCES) {
      const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `node-red-${instance}-`));
      runtimes.push(await startNodeRed({ userDir, port: await freePort(), flows, env: { SCALE_OUT_INSTANCE: instance } }));
    }

    // records read before the second member joined could legitimately be read twice after
    // the rebalance, so nothing is produced until the group has settled with both
    let members: GroupMember[] = [];
    await waitFor(
      async () => {
        const group = await groupMembers(groupId, input);
        members = group.members;
        return group.state === "Stable" && members.length === 2 && members.every((member) => member.partitions.length > 0);
      },
      90_000,
      "both instances in the group, each with partitions",
      250,
    );
    assert.deepEqual(members.map((member) => member.clientId).sort(), INSTANCES);
    assert.deepEqual(members.flatMap((member) => member.partitions).sort(), [0, 1, 2, 3]);

    const rows = Array.from({ length: RECORDS }, (_, index) => HOLDOUT[index % HOLDOUT.length]);
    await produce(input, rows.map((row, index) => ({ key: `r${index}`, value: JSON.stringify(row.features) })));
    const inputEnd = await endOffsets(input);
    // an offset is committed only once its record's result is written, so all committed = all written
    await waitFor(
      async () => {
        const committed = await committedOffsets(groupId, input);
        return [...inputEnd].every(([partition, end]) => committed.get(partition) === end);
      },
      120_000,
      "every input record committed",
      250,
    );
    const written = [...(await endOffsets(output)).values()].reduce((sum, offset) => sum + Number(offset), 0);
    assert.equal(written, RECORDS, "as many output records as input records: none written twice");

    const records = await consume(output, RECORDS);
    assert.equal(new Set(records.map((record) => String(record.key))).size, RECORDS, "every key once");
    const scorers = new Map<number, Set<string>>();
    const perInstance = new Map<string, number>();
    for (const record of records) {
      assert.match((JSON.parse(String(record.value)) as { label: string }).label, /^(setosa|versicolor|virginica)$/, `the result of ${String(record.key)}`);
      const partition = Number(String(record.headers?.["source-partition"]));
      const instance = String(record.headers?.instance);
      scorers.set(partition, (scorers.get(partition) ?? new Set()).add(instance));
      perInstance.set(instance, (perInstance.get(instance) ?? 0) + 1);
    }
    for (const member of members) {
      for (const partition of member.partitions) {
        assert.deepEqual([...(scorers.get(partition) ?? [])], [member.clientId], `partition ${partition} was scored by its owner alone`);
      }
    }
    for (const instance of INSTANCES) assert.ok((perInstance.get(instance) ?? 0) > 0, `${instance} scored records`);
    console.log(`      (${INSTANCES.map((instance) => `${instance}: ${perInstance.get(instance)} records`).join(", ")})`);
  });
});

