import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from "node-red";
import { settleMessage } from "../kafka/settlement";
import { failMessage } from "./report-failure";
import { showStatus } from "./status";

const STATUS_INTERVAL_MS = 1000;

/**
 * Declares the record a msg came from done, for flows that do not end in a kafka-out
 * (a debug node, a file, an HTTP call): its offset can then be committed. The msg goes on.
 */
export = function registerKafkaCommit(RED: NodeAPI): void {
  function KafkaCommit(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    let settled = 0;
    let shown = -1;
    // the count is shown once a second at most: a status per message would flood the editor
    const timer = setInterval(() => {
      if (settled === shown) return;
      shown = settled;
      showStatus(this, "ok", RED._("kafka-commit.status.settled", { count: settled }));
    }, STATUS_INTERVAL_MS);

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      if (!settleMessage(msg, "processed")) {
        failMessage(this, msg, new Error(RED._("kafka-commit.errors.no-record")), done);
        return;
      }
      settled++;
      send(msg);
      done();
    });

    this.on("close", () => clearInterval(timer));
  }
  RED.nodes.registerType("kafka-commit", KafkaCommit);
};
