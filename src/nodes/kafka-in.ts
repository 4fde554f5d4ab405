import { randomUUID } from "node:crypto";
import type { Node, NodeAPI } from "node-red";
import { ConsumerLoop, type ConsumerState, type StateDetail } from "../kafka/consumer-loop";
import { settleMessage } from "../kafka/settlement";
import { parseTopics } from "../kafka/topics";
import { KAFKA_IN_DEFAULTS, numberSetting, type KafkaBrokerNode, type KafkaInDef } from "./node-config";
import { shortReason, showStatus } from "./status";

const COMMIT_INTERVAL_MS = 200;

export = function registerKafkaIn(RED: NodeAPI): void {
  function KafkaIn(this: Node, config: KafkaInDef): void {
    RED.nodes.createNode(this, config);
    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    // a topic from an environment variable is read once, at deploy
    const topicSetting: unknown = config.topicType === "env" ? RED.util.evaluateNodeProperty(config.topic, "env", this, {}) : config.topic;
    const topic = typeof topicSetting === "string" ? topicSetting.trim() : "";
    const problem = !broker ? RED._("kafka-in.errors.no-broker") : (broker.configError ?? (topic ? undefined : config.topicType === "env" ? RED._("kafka-in.errors.no-env-topic", { name: config.topic }) : RED._("kafka-in.errors.no-topic")));
    if (!broker || problem) {
      showStatus(this, "error", problem ?? "");
      this.error(problem);
      return;
    }

    const showState = (state: ConsumerState, detail?: StateDetail): void => {
      if (detail?.error && state !== "error") this.warn(detail.error.message);
      switch (state) {
        case "connected":
          return showStatus(this, "ok", RED._("kafka-in.status.connected"));
        case "paused":
          return showStatus(this, "busy", RED._("kafka-in.status.paused", { count: detail?.inFlight ?? 0 }));
        case "connecting":
          if (detail?.reason) return showStatus(this, "busy", RED._("kafka-in.status.retrying", { error: shortReason(detail.reason) }));
          return showStatus(this, "busy", RED._("kafka-in.status.connecting"));
        case "disconnected":
          return showStatus(this, "off", RED._("kafka-in.status.disconnected"));
        case "error":
          showStatus(this, "error", RED._("kafka-in.status.error", { error: shortReason(detail?.error) }));
          if (detail?.error) this.error(RED._("kafka-in.errors.consumer", { error: detail.error.message }));
      }
    };

    const loop = new ConsumerLoop(
      broker.connection,
      {
        // a fresh source per deploy: records of an earlier consumer are not settled into this one
        source: `${this.id}/${randomUUID()}`,
        topics: parseTopics(topic),
        groupId: config.groupId || "node-red",
        fromBeginning: Boolean(config.fromBeginning),
        formats: {
          payload: config.payloadFormat === "text" || config.payloadFormat === "buffer" ? config.payloadFormat : "json",
          keyHeaders: config.keyHeaderFormat === "buffer" ? "buffer" : "string",
        },
        deliveryMode: config.deliveryMode === "auto-commit" ? "auto-commit" : "at-least-once",
        maxUnsettled: numberSetting(config.maxUnsettled, KAFKA_IN_DEFAULTS.maxUnsettled, 1, 1_000_000),
        commitIntervalMs: COMMIT_INTERVAL_MS,
        deadLetterTopic: (config.deadLetterTopic ?? "").trim(),
      },
      {
        onRecord: (msg, decodeError) => {
          if (decodeError) {
            // the record is reported with its original text, then counts as dealt with
            const message = RED._("kafka-in.errors.invalid-json", { error: decodeError.message });
            this.error(message, msg);
            settleMessage(msg, "failed", { error: message, node: this.id });
            return;
          }
          this.send(msg);
        },
        onState: showState,
      },
    );

    // a failure to start or a crash is shown in status and retried by the loop until close
    loop.start();

    this.on("close", (_removed: boolean, done: () => void) => {
      loop
        .stop()
        .catch((error: Error) => this.warn(error.message))
        .finally(() => {
          showStatus(this, "off", RED._("kafka-in.status.disconnected"));
          done();
        });
    });
  }
  RED.nodes.registerType("kafka-in", KafkaIn);
};
