import type { Message } from "kafkajs";
import type { ConnectionState, ProducerKind } from "../kafka/connection";
import type { Node, NodeAPI, NodeMessageInFlow } from "node-red";
import { compressionProblem, kafkajsCompression } from "../kafka/codecs";
import { BatchingProducer, type Delivery, type ProduceOptions } from "../kafka/batching-producer";
import { ProduceRefusedError, ProducerStoppedError } from "../kafka/produce-errors";
import { encodeMessage, type OutgoingMessage } from "../kafka/record-codec";
import { settleMessage, settlementHandle } from "../kafka/settlement";
import type { AcksSetting, KafkaBrokerNode, KafkaOutDef } from "./node-config";
import { RateStatus } from "./rate-status";
import { failMessage } from "./report-failure";
import { shortReason, showStatus } from "./status";

/** msg.partition names a partition the topic does not have: writing it again would fail again. */
class MissingPartitionError extends Error {}

const ACKS: Record<AcksSetting, ProduceOptions["acks"]> = { all: -1, leader: 1, none: 0 };

export = function registerKafkaOut(RED: NodeAPI): void {
  function KafkaOut(this: Node, config: KafkaOutDef): void {
    RED.nodes.createNode(this, config);
    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    const problem = broker ? (broker.configError ?? compressionProblem(config.compression)) : RED._("kafka-out.errors.no-broker");
    if (!broker || problem) {
      showStatus(this, "error", problem ?? "");
      this.error(problem);
      // every message still gets an answer: the reason in Catch, its record settled as failed
      this.on("input", (msg: NodeMessageInFlow, _send, done) => {
        settleMessage(msg, "failed", { error: problem ?? "", node: this.id });
        failMessage(this, msg, new Error(problem), done);
      });
      return;
    }
    const configuredTopic = (config.topic ?? "").trim();
    const topicType = config.topicType || "str";
    /** A topic typed into the node; any other comes with the message, and may be the record's own source. */
    const fixedTopic = topicType === "str" && configuredTopic !== "";
    const topicOf = (msg: NodeMessageInFlow): string => {
      if (topicType === "str") return configuredTopic || (typeof msg.topic === "string" ? msg.topic : "");
      const value: unknown = RED.util.evaluateNodeProperty(configuredTopic, topicType, this, msg);
      return typeof value === "string" ? value.trim() : "";
    };
    const connection = broker.connection;
    // the status shows, most pressing first: writes being retried, what was written and what
    // failed in the last second, the last failure while idle, the connection
    let connectionState: ConnectionState | "error" | undefined;
    let connectionError: Error | undefined;
    let retrying: Error | undefined;
    const render = (): void => {
      if (retrying) return showStatus(this, "busy", RED._("kafka-out.status.retrying", { error: shortReason(retrying) }));
      if (rates.show(this)) return;
      if (connectionState === "error") return showStatus(this, "error", RED._("kafka-out.status.error", { error: shortReason(connectionError) }));
      if (connectionState) showStatus(this, connectionState === "connected" ? "ok" : connectionState === "connecting" ? "busy" : "off", RED._(`kafka-out.status.${connectionState}`));
    };
    const rates = new RateStatus(RED, "kafka-out", render);
    broker.register(this, (state) => {
      connectionState = state;
      render();
    });
    const kind: ProducerKind = config.idempotent ? "idempotent" : "plain";
    const producer = new BatchingProducer(
      () => connection.producer(kind),
      {
        // idempotence needs every in-sync replica to acknowledge
        acks: config.idempotent ? -1 : (ACKS[config.acks] ?? -1),
        compression: kafkajsCompression(config.compression),
      },
      config.metadata ? (topic) => connection.partitionsOf(topic) : undefined,
      {
        retrying: (error, nextAttemptInMs) => {
          if (!retrying) this.warn(RED._("kafka-out.errors.retrying", { error: error.message, seconds: Math.round(nextAttemptInMs / 1000) }));
          retrying = error;
          render();
        },
        recovered: () => {
          retrying = undefined;
          render();
        },
      },
    );
    const fields = { partition: Boolean(config.partitionFromMsg), timestamp: Boolean(config.timestampFromMsg) };
    // connect at deploy, so that status tells at once whether the broker is reachable
    connection.producer(kind).catch((error: Error) => {
      connectionState = "error";
      connectionError = error;
      render();
      this.warn(RED._("kafka-out.errors.produce", { error: error.message }));
    });

    /** A msg that can never be written: reported to Catch, and its record settled as failed (dead letters, if any). */
    const reject = (msg: NodeMessageInFlow, error: Error, done: (error?: Error) => void): void => {
      settleMessage(msg, "failed", { error: error.message, node: this.id });
      rates.failed(error);
      failMessage(this, msg, error, done);
    };

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      const topic = topicOf(msg);
      if (!topic) {
        reject(msg, new Error(RED._("kafka-out.errors.no-topic")), done);
        return;
      }
      if (!fixedTopic && topic === settlementHandle(msg)?.topic) {
        // msg.topic was set by kafka-in: writing there would feed the flow its own output
        reject(msg, new Error(RED._("kafka-out.errors.source-topic", { topic })), done);
        return;
      }
      let record: Message;
      try {
        record = encodeMessage(msg as OutgoingMessage, fields);
      } catch (error) {
        reject(msg, error as Error, done);
        return;
      }
      // a record from kafka-in waits out a broker out of reach (kafka-in bounds how many
      // wait); any other msg fails once the client has given up retrying
      const retry = settlementHandle(msg) !== undefined;
      write(topic, record, retry).then(
        (delivery) => {
          settleMessage(msg, "processed");
          rates.succeeded();
          if (delivery) send(Object.assign(msg, { delivery }));
          done();
        },
        (error: Error) => {
          // closing: the record is left unsettled, to be read again
          if (error instanceof ProducerStoppedError) return done();
          if (error instanceof MissingPartitionError) return reject(msg, error, done);
          const key = error instanceof ProduceRefusedError ? "kafka-out.errors.refused" : "kafka-out.errors.produce";
          const failure = new Error(RED._(key, { error: error.message }));
          settleMessage(msg, "undelivered", { error: failure.message, node: this.id });
          rates.failed(error);
          failMessage(this, msg, failure, done);
        },
      );
    });

    /** A partition from the msg is checked first: one the topic lacks would fail the whole batch. */
    const write = async (topic: string, record: Message, retry: boolean): Promise<Delivery | undefined> => {
      if (record.partition !== undefined) {
        const partitions = await connection.partitionsOf(topic);
        if (record.partition >= partitions.length) {
          throw new MissingPartitionError(RED._("kafka-out.errors.no-partition", { partition: record.partition, topic, count: partitions.length }));
        }
      }
      return producer.send(topic, record, { retry });
    };

    this.on("close", (_removed: boolean, done: () => void) => {
      rates.stop();
      producer.stop();
      broker.deregister(this).finally(done);
    });
  }
  RED.nodes.registerType("kafka-out", KafkaOut);
};
