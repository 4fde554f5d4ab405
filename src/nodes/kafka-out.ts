import { CompressionTypes } from "kafkajs";
import type { Node, NodeAPI, NodeMessageInFlow } from "node-red";
import { BatchingProducer, type ProduceOptions } from "../kafka/batching-producer";
import { encodeMessage } from "../kafka/record-codec";
import { settleMessage, settlementHandle } from "../kafka/settlement";
import type { AcksSetting, KafkaBrokerNode, KafkaOutDef } from "./node-config";
import { shortReason, showStatus } from "./status";

const ACKS: Record<AcksSetting, ProduceOptions["acks"]> = { all: -1, leader: 1, none: 0 };

export = function registerKafkaOut(RED: NodeAPI): void {
  function KafkaOut(this: Node, config: KafkaOutDef): void {
    RED.nodes.createNode(this, config);
    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    const problem = broker ? broker.configError : RED._("kafka-out.errors.no-broker");
    if (!broker || problem) {
      showStatus(this, "error", problem ?? "");
      this.error(problem);
      return;
    }
    const configuredTopic = (config.topic ?? "").trim();
    const connection = broker.connection;
    broker.register(this);
    const producer = new BatchingProducer(
      () => connection.producer(),
      { acks: ACKS[config.acks] ?? -1, compression: config.compression === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None },
      config.metadata ? (topic) => connection.partitionsOf(topic) : undefined,
    );
    // connect at deploy, so that status tells at once whether the broker is reachable
    connection.producer().catch((error: Error) => {
      showStatus(this, "error", RED._("kafka-out.status.error", { error: shortReason(error) }));
      this.warn(RED._("kafka-out.errors.produce", { error: error.message }));
    });

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      const topic = configuredTopic || (typeof msg.topic === "string" ? msg.topic : "");
      if (!topic) {
        done(new Error(RED._("kafka-out.errors.no-topic")));
        return;
      }
      if (!configuredTopic && topic === settlementHandle(msg)?.topic) {
        // msg.topic was set by kafka-in: writing there would feed the flow its own output
        done(new Error(RED._("kafka-out.errors.source-topic", { topic })));
        return;
      }
      producer.send(topic, encodeMessage(msg as { payload?: unknown; key?: unknown; headers?: unknown })).then(
        (delivery) => {
          settleMessage(msg, "processed");
          if (delivery) send(Object.assign(msg, { delivery }));
          done();
        },
        (error: Error) => {
          const failure = new Error(RED._("kafka-out.errors.produce", { error: error.message }));
          settleMessage(msg, "undelivered", { error: failure.message, node: this.id });
          done(failure);
        },
      );
    });

    this.on("close", (_removed: boolean, done: () => void) => {
      broker.deregister(this).finally(done);
    });
  }
  RED.nodes.registerType("kafka-out", KafkaOut);
};
