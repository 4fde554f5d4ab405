import * as assert from "node:assert/strict";
import { KafkaConnection, type LogLevel } from "../../src/kafka/connection";

/** What the shared client makes of kafkajs's log lines (shaped as kafkajs 2.2.4's Connection logs them). */
describe("KafkaConnection's log", () => {
  function connection(): { lines: [LogLevel, string][]; problems: string[]; kafkaLogger: ReturnType<KafkaConnection["kafka"]["logger"]> } {
    const lines: [LogLevel, string][] = [];
    const problems: string[] = [];
    const shared = new KafkaConnection({ brokers: ["127.0.0.1:1"], clientId: "log-test" }, (level, text) => lines.push([level, text]));
    shared.onRetriedError((problem) => problems.push(problem));
    return { lines, problems, kafkaLogger: shared.kafka.logger().namespace("Connection") };
  }

  it("keeps a coordinator that is still loading (a broker's normal start) out of warnings and of the nodes' status", () => {
    const { lines, problems, kafkaLogger } = connection();
    kafkaLogger.error("Response GroupCoordinator(key: 10, version: 2)", { error: "The group coordinator is not available" });
    kafkaLogger.error("Response JoinGroup(key: 11, version: 5)", { error: "The coordinator is loading and hence can't process requests" });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      lines.map(([level]) => level),
      ["info", "info"],
    );
  });

  it("tells the nodes the cause of a failure that the client retries, and warns", () => {
    const { lines, problems, kafkaLogger } = connection();
    kafkaLogger.error("Connection error: connect ECONNREFUSED 127.0.0.1:1", {});
    kafkaLogger.error("Response Metadata(key: 3, version: 6)", { error: "Not authorized to access topics: [Topic authorization failed]" });
    assert.deepEqual(problems, ["connect ECONNREFUSED 127.0.0.1:1", "Not authorized to access topics: [Topic authorization failed]"]);
    assert.deepEqual(
      lines.map(([level]) => level),
      ["warn", "warn"],
    );
  });
});
