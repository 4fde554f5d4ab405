import * as assert from "node:assert/strict";
import { logLevel } from "kafkajs";
import type { LogLevel } from "../../src/kafka/engine";
import { kafkajsLogCreator } from "../../src/kafka/engines/kafkajs/log";

/** What the kafkajs engine makes of kafkajs's log lines (shaped as kafkajs 2.2.4's Connection logs them). */
describe("the kafkajs engine's log", () => {
  function connection(): { lines: [LogLevel, string][]; problems: string[]; kafkaLogger: { error(message: string, extra: { error?: string }): void } } {
    const lines: [LogLevel, string][] = [];
    const problems: string[] = [];
    const write = kafkajsLogCreator((level, text) => lines.push([level, text]), (problem) => problems.push(problem))();
    const error = (message: string, extra: { error?: string }): void =>
      write({ namespace: "Connection", level: logLevel.ERROR, label: "ERROR", log: { message: `[Connection] ${message}`, timestamp: new Date().toISOString(), ...extra } });
    return { lines, problems, kafkaLogger: { error } };
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
