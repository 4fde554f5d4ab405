import type { Node, NodeAPI, NodeMessageInFlow } from "node-red";
import type { Codec, ConnectionState, Delivery, EngineProducer, OutgoingRecord, ProducerSettings } from "../kafka/engine";
import { ProduceRefusedError, ProducerStoppedError } from "../kafka/produce-errors";
import { isBatchMessage, withRows } from "../kafka/record-batches";
import { encodeMessage, RecordEncodeError, type OutgoingMessage } from "../kafka/record-codec";
import { encoderSettings } from "../kafka/schema-registry/registry-settings";
import { RegistryValueWriter } from "../kafka/schema-registry/registry-writer";
import { settleMessage, settlementHandle } from "../kafka/settlement";
import { transactionOf, type TransactionSender } from "../kafka/transactions/transaction-senders";
import type { AcksSetting, KafkaBrokerNode, KafkaOutDef, SchemaRegistryNode } from "./node-config";
import { RateStatus } from "./rate-status";
import { failMessage } from "./report-failure";
import { shortReason, showStatus } from "./status";

/** msg.partition names a partition the topic does not have: writing it again would fail again. */
class MissingPartitionError extends Error {}
/** msg.payload cannot be written in the registry's schema (it does not fit, or there is no such schema). */
class UnwritableValueError extends Error {}

const ACKS: Record<AcksSetting, ProducerSettings["acks"]> = { all: -1, leader: 1, none: 0 };
const CODECS: Codec[] = ["none", "gzip", "snappy", "lz4", "zstd"];

export = function registerKafkaOut(RED: NodeAPI): void {
  function KafkaOut(this: Node, config: KafkaOutDef): void {
    RED.nodes.createNode(this, config);
    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    /** A node that cannot write still answers every message: the reason in Catch, its record settled as failed. */
    const unusable = (problem: string): void => {
      showStatus(this, "error", problem);
      this.error(problem);
      this.on("input", (msg: NodeMessageInFlow, _send, done) => {
        settleMessage(msg, "failed", { error: problem, node: this.id });
        failMessage(this, msg, new Error(problem), done);
      });
    };
    const problem = broker ? broker.configError : RED._("kafka-out.errors.no-broker");
    if (!broker?.connection || problem) {
      unusable(problem ?? "");
      return;
    }
    let registryWriter: RegistryValueWriter | undefined;
    let keyWriter: RegistryValueWriter | undefined;
    let registryWait: Error | undefined;
    if (config.valueFormat === "schema-registry" || config.keyFormat === "schema-registry") {
      const registry = RED.nodes.getNode(config.registry ?? "") as SchemaRegistryNode | null;
      const waiting = (error: Error | undefined): void => {
        if (error && !registryWait) this.warn(RED._("kafka-out.errors.registry-wait", { error: error.message }));
        registryWait = error;
        render();
      };
      try {
        if (!registry?.client) throw new Error(registry?.configError ?? RED._("kafka-out.errors.no-registry"));
        if (config.valueFormat === "schema-registry") registryWriter = new RegistryValueWriter(registry.client, encoderSettings(config), waiting);
        // keys in the latest schema of the topic's key subject, as Confluent's serializers write them by default
        if (config.keyFormat === "schema-registry") keyWriter = new RegistryValueWriter(registry.client, { strategy: "topic", use: { latest: true }, isKey: true }, waiting);
      } catch (error) {
        unusable(RED._("kafka-out.errors.registry-settings", { error: (error as Error).message }));
        return;
      }
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
    const settings: ProducerSettings = {
      acks: ACKS[config.acks] ?? -1,
      compression: CODECS.includes(config.compression) ? config.compression : "none",
      idempotent: Boolean(config.idempotent),
      deliveries: Boolean(config.metadata),
    };
    // the status shows, most pressing first: writes being retried, what was written and what
    // failed in the last second, the last failure while idle, the connection
    let connectionState: ConnectionState | "error" | undefined;
    let connectionError: Error | undefined;
    let retrying: Error | undefined;
    const render = (): void => {
      if (registryWait) return showStatus(this, "busy", RED._("kafka-out.status.registry-wait", { error: shortReason(registryWait) }));
      if (retrying) return showStatus(this, "busy", RED._("kafka-out.status.retrying", { error: shortReason(retrying) }));
      if (rates.show(this)) return;
      if (connectionState === "error") return showStatus(this, "error", RED._("kafka-out.status.error", { error: shortReason(connectionError) }));
      if (connectionState) showStatus(this, connectionState === "connected" ? "ok" : connectionState === "connecting" ? "busy" : "off", RED._(`kafka-out.status.${connectionState}`));
    };
    let producer: EngineProducer;
    try {
      producer = connection.engine.producer(settings, {
        retrying: (error, nextAttemptInMs) => {
          if (!retrying) this.warn(RED._("kafka-out.errors.retrying", { error: error.message, seconds: Math.round(nextAttemptInMs / 1000) }));
          retrying = error;
          render();
        },
        recovered: () => {
          retrying = undefined;
          render();
        },
      });
    } catch (error) {
      // a setting this engine cannot honour (a codec it cannot write)
      unusable(RED._("kafka-out.errors.settings", { error: (error as Error).message }));
      return;
    }
    const rates = new RateStatus(RED, "kafka-out", render);
    broker.register(this, (state) => {
      connectionState = state;
      render();
    });
    const fields = { partition: Boolean(config.partitionFromMsg), timestamp: Boolean(config.timestampFromMsg), valueElsewhere: registryWriter !== undefined, keyElsewhere: keyWriter !== undefined };
    // connect at deploy, so that status tells at once whether the broker is reachable
    connection.engine.connectProducer(settings).catch((error: Error) => {
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

    /** A registry writer's failure as the msg's: a value or key that cannot be written (closing passes through). */
    const unwritable = (what: string) => (error: Error) =>
      Promise.reject(error instanceof ProducerStoppedError ? error : new UnwritableValueError(RED._(what, { error: error.message })));
    const unwritableValue = unwritable("kafka-out.errors.registry-value");
    const unwritableKey = unwritable("kafka-out.errors.registry-key");
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
      // exactly-once: written in the transaction of the consumer that read the record
      const transaction = transactionOf(msg);
      if (transaction === "aborted") return done(); // its transaction was aborted: the record is processed again
      if (transaction && transaction.connection !== connection) {
        reject(msg, new Error(RED._("kafka-out.errors.other-cluster")), done);
        return;
      }
      // a record from kafka-in waits out a broker out of reach (kafka-in bounds how many
      // wait); any other msg fails once the client has given up retrying
      const retry = settlementHandle(msg) !== undefined;
      if (isBatchMessage(msg) || (config.splitArrays && Array.isArray(msg.payload))) {
        writeRows(msg, topic, retry, transaction, send, done);
        return;
      }
      writeRecord(msg as OutgoingMessage, topic, retry, transaction).then(
        (delivery) => {
          settleMessage(msg, "processed");
          rates.succeeded();
          if (delivery) send(Object.assign(msg, { delivery }));
          done();
        },
        (error: Error) => {
          // closing: the record is left unsettled, to be read again
          if (error instanceof ProducerStoppedError) return done();
          const { outcome, failure } = classify(error);
          if (outcome === "failed") return reject(msg, failure, done);
          settleMessage(msg, "undelivered", { error: failure.message, node: this.id });
          rates.failed(error);
          failMessage(this, msg, failure, done);
        },
      );
    });

    /** A failure as the record's outcome: failed (it can never be written) or undelivered (the broker did not take it). */
    const classify = (error: Error): { outcome: "failed" | "undelivered"; failure: Error } => {
      if (error instanceof MissingPartitionError || error instanceof UnwritableValueError || error instanceof RecordEncodeError) return { outcome: "failed", failure: error };
      const key = error instanceof ProduceRefusedError ? "kafka-out.errors.refused" : "kafka-out.errors.produce";
      return { outcome: "undelivered", failure: new Error(RED._(key, { error: error.message })) };
    };

    /** Encodes a msg's record (through the registry when so set) and writes it; a msg that cannot be encoded rejects with a RecordEncodeError. */
    const writeRecord = (msg: OutgoingMessage, topic: string, retry: boolean, transaction: TransactionSender | undefined): Promise<Delivery | undefined> => {
      let record: OutgoingRecord;
      try {
        record = encodeMessage(msg, fields);
      } catch (error) {
        return Promise.reject(error instanceof RecordEncodeError ? error : new RecordEncodeError((error as Error).message));
      }
      if (!registryWriter && !keyWriter) return write(topic, record, retry, transaction);
      let valued = Promise.resolve(record);
      if (registryWriter) valued = valued.then((ready) => registryWriter.value(topic, msg.payload, retry).then((value) => ({ ...ready, value }), unwritableValue));
      if (keyWriter && msg.key != null) valued = valued.then((ready) => keyWriter.value(topic, msg.key, retry).then((key) => ({ ...ready, key }), unwritableKey));
      return valued.then((ready) => write(topic, ready, retry, transaction));
    };

    /**
     * A msg of rows (a batch from kafka-in): one record per element of msg.payload, with
     * its key, headers and timestamp from msg.kafka's arrays. The batch is settled once
     * every record is written; a row that fails is reported to Catch and settled as a
     * single msg would be, and the others are settled as written.
     */
    const writeRows = (msg: NodeMessageInFlow, topic: string, retry: boolean, transaction: TransactionSender | undefined, send: (msg: NodeMessageInFlow) => void, done: (error?: Error) => void): void => {
      const rows = msg.payload as unknown[];
      // each row's key, headers and timestamp while msg.kafka has them per row
      const kafka = isBatchMessage(msg) && msg.kafka.offsets.length === rows.length ? msg.kafka : undefined;
      const partition = msg.partition;
      const writes = rows.map((payload, index) =>
        writeRecord(kafka ? { payload, partition, key: kafka.keys[index], headers: kafka.headers[index], timestamp: kafka.timestamps[index] } : { payload, partition }, topic, retry, transaction),
      );
      void Promise.allSettled(writes).then((outcomes) => {
        const failures = outcomes.flatMap((outcome, index) => (outcome.status === "rejected" ? [{ index, error: outcome.reason as Error }] : []));
        // closing: the records are left unsettled, to be read again
        if (failures.some(({ error }) => error instanceof ProducerStoppedError)) return done();
        const deliveries = outcomes.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : undefined));
        if (failures.length === 0) {
          settleMessage(msg, "processed");
          rates.succeeded(rows.length);
          if (settings.deliveries) send(Object.assign(msg, { delivery: deliveries }));
          return done();
        }
        const written = outcomes.flatMap((outcome, index) => (outcome.status === "fulfilled" ? [index] : []));
        // rows settled one by one while msg.kafka has a record per row; else (one record's array, or a batch reshaped) the msg goes as one
        const perRow = kafka !== undefined;
        if (perRow && written.length > 0) settleMessage(withRows(msg, written), "processed");
        const rowErrors = failures.map(({ index, error }) => ({ index, ...classify(error) }));
        for (const { index, outcome, failure } of perRow ? rowErrors : rowErrors.slice(0, 1)) {
          settleMessage(perRow ? withRows(msg, [index]) : msg, outcome, { error: failure.message, node: this.id });
        }
        rates.succeeded(written.length);
        rates.failed(rowErrors[0].failure, failures.length);
        const text = RED._("kafka-out.errors.rows-failed", { count: failures.length, total: rows.length, rows: rowErrors.slice(0, 5).map(({ index, failure }) => `row ${index}: ${failure.message}`).join("; ") });
        const report = Object.assign(withRows(msg, rowErrors.map(({ index }) => index)), { payload: rowErrors.map(({ index }) => rows[index]), errors: rowErrors.map(({ index, failure }) => ({ index, error: failure.message })) });
        // Catch gets the failed rows (done(error) would hand it the msg as it came)
        this.error(text, report);
        done();
      });
    };

    /** A partition from the msg is checked first: one the topic lacks would fail the whole batch. */
    const write = async (topic: string, record: OutgoingRecord, retry: boolean, transaction: TransactionSender | undefined): Promise<Delivery | undefined> => {
      if (record.partition !== undefined) {
        const count = await connection.engine.partitionCount(topic);
        if (record.partition >= count) {
          throw new MissingPartitionError(RED._("kafka-out.errors.no-partition", { partition: record.partition, topic, count }));
        }
      }
      if (transaction) return transaction.send(topic, record);
      return producer.send(topic, record, { retry });
    };

    this.on("close", (_removed: boolean, done: () => void) => {
      rates.stop();
      registryWriter?.stop();
      keyWriter?.stop();
      producer.stop();
      broker.deregister(this).finally(done);
    });
  }
  RED.nodes.registerType("kafka-out", KafkaOut);
};
