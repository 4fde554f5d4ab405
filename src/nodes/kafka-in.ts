import { createHash, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Node, NodeAPI } from "node-red";
import { ConsumerLoop, type ConsumerState, type Refusal, type StateDetail } from "../kafka/consumer-loop";
import { MAX_JSON_DEPTH } from "../kafka/record-codec";
import { SchemaDecoder } from "../kafka/schema-registry/serdes";
import { settleMessage } from "../kafka/settlement";
import { parseTopics } from "../kafka/topics";
import { KAFKA_IN_DEFAULTS, numberSetting, type KafkaBrokerNode, type KafkaInDef, type SchemaRegistryNode } from "./node-config";
import { exactlyOnceLeaks, type FlowNode } from "./exactly-once-flow-check";
import { shortReason, showStatus } from "./status";

const COMMIT_INTERVAL_MS = 200;
/** How often the status shows the failures of the last interval. */
const STATUS_INTERVAL_MS = 1000;
/** How long the status tells of a failure the client retried by itself (it says nothing when it recovers). */
const TROUBLE_SHOWN_MS = 5000;

export = function registerKafkaIn(RED: NodeAPI): void {
  function KafkaIn(this: Node, config: KafkaInDef): void {
    RED.nodes.createNode(this, config);
    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    // a topic from an environment variable is read once, at deploy
    const topicSetting: unknown = config.topicType === "env" ? RED.util.evaluateNodeProperty(config.topic, "env", this, {}) : config.topic;
    const topic = typeof topicSetting === "string" ? topicSetting.trim() : "";
    const registryValues = config.payloadFormat === "schema-registry";
    const useRegistry = registryValues || config.keyFormat === "schema-registry";
    const registry = useRegistry ? (RED.nodes.getNode(config.registry ?? "") as SchemaRegistryNode | null) : null;
    const registryProblem = !useRegistry ? undefined : !registry ? RED._("kafka-in.errors.no-registry") : registry.configError;
    const exactlyOnce = config.deliveryMode === "exactly-once";
    const engineProblem = exactlyOnce && broker?.connection && !broker.connection.engine.transactional ? RED._("kafka-in.errors.exactly-once-engine", { engine: broker.connection.engine.name }) : undefined;
    const problem = !broker
      ? RED._("kafka-in.errors.no-broker")
      : (broker.configError ??
        registryProblem ??
        engineProblem ??
        (topic ? undefined : config.topicType === "env" ? RED._("kafka-in.errors.no-env-topic", { name: config.topic }) : RED._("kafka-in.errors.no-topic")));
    if (!broker?.connection || problem) {
      showStatus(this, "error", problem ?? "");
      this.error(problem);
      return;
    }

    // the status shows the most pressing of: the consumer's state when it is not reading, a
    // partition stopped at a record written nowhere, dead letters being retried, a pause for
    // room, failures in the last second, and "subscribed"
    let state: ConsumerState = "connecting";
    let detail: StateDetail | undefined;
    let deadLetterRetry: Error | undefined;
    let registryWait: Error | undefined;
    let trouble: { reason: string; at: number } | undefined;
    let failedPerS = 0;
    let transactionsPerS = 0;
    let abort: { reason: string; at: number } | undefined;
    const deadLetterTopic = (config.deadLetterTopic ?? "").trim();
    const render = (): void => {
      const stopped = [...loop.stopped.values()];
      switch (state) {
        case "connecting":
          if (detail?.reason) return showStatus(this, "busy", RED._("kafka-in.status.retrying", { error: shortReason(detail.reason) }));
          return showStatus(this, "busy", RED._("kafka-in.status.connecting"));
        case "disconnected":
          return showStatus(this, "off", RED._("kafka-in.status.disconnected"));
        case "error":
          return showStatus(this, "error", RED._("kafka-in.status.error", { error: shortReason(detail?.error) }));
      }
      if (stopped.length > 0) {
        const first = stopped[0];
        const more = stopped.length > 1 ? RED._("kafka-in.status.more-stopped", { count: stopped.length - 1 }) : "";
        return showStatus(this, "error", RED._("kafka-in.status.stopped", { where: where(first), reason: shortReason(first.reason) }) + more);
      }
      if (abort) return showStatus(this, "busy", RED._("kafka-in.status.aborted", { error: shortReason(abort.reason) }));
      if (registryWait) return showStatus(this, "busy", RED._("kafka-in.status.registry-wait", { error: shortReason(registryWait) }));
      if (trouble) return showStatus(this, "busy", RED._("kafka-in.status.network", { error: shortReason(trouble.reason) }));
      if (deadLetterRetry) return showStatus(this, "busy", RED._("kafka-in.status.dead-letter-retry", { topic: deadLetterTopic, error: shortReason(deadLetterRetry) }));
      if (state === "paused") return showStatus(this, "busy", RED._("kafka-in.status.paused", { count: detail?.inFlight ?? 0 }));
      if (failedPerS > 0) {
        return showStatus(this, "busy", RED._(deadLetterTopic ? "kafka-in.status.dead-lettered" : "kafka-in.status.failed", { rate: failedPerS }));
      }
      if (exactlyOnce) return showStatus(this, "ok", RED._("kafka-in.status.exactly-once", { rate: transactionsPerS }));
      showStatus(this, "ok", RED._("kafka-in.status.connected"));
    };
    const showState = (next: ConsumerState, nextDetail?: StateDetail): void => {
      if (nextDetail?.error && next !== "error") this.warn(nextDetail.error.message);
      if (next === "error" && nextDetail?.error) this.error(RED._("kafka-in.errors.consumer", { error: nextDetail.error.message }));
      state = next;
      detail = nextDetail;
      render();
    };
    const reportRefusal = (refusal: Refusal): void => {
      const values = { where: where(refusal), reason: refusal.reason, topic: refusal.deadLetterTopic ?? "" };
      const text = `${RED._(refusal.deadLetterTopic ? "kafka-in.errors.dead-letter-refused" : "kafka-in.errors.undeliverable", values)} ${RED._(`kafka-in.errors.${refusal.action}`, values)}`;
      // a dead-letter refusal reaches Catch with the record; a kafka-out refusal already did, from kafka-out
      if (refusal.msg) this.error(text, refusal.msg);
      else this.error(text);
      render();
    };

    const groupId = config.groupId || "node-red";
    if (exactlyOnce) {
      const flows: FlowNode[] = [];
      RED.nodes.eachNode((node) => flows.push(node as FlowNode));
      for (const leak of exactlyOnceLeaks(flows, this.id, config.broker)) this.warn(RED._("kafka-in.errors.exactly-once-leak", { leak }));
    }
    const loop = new ConsumerLoop(
      broker.connection,
      {
        // a fresh source per deploy: records of an earlier consumer are not settled into this one
        source: `${this.id}/${randomUUID()}`,
        topics: parseTopics(topic),
        groupId,
        transactionalId: exactlyOnce ? transactionalId(groupId, this.id, RED.settings.userDir) : undefined,
        fromBeginning: Boolean(config.fromBeginning),
        formats: {
          payload: config.payloadFormat === "text" || config.payloadFormat === "buffer" || registryValues ? config.payloadFormat : "json",
          keyHeaders: config.keyHeaderFormat === "buffer" ? "buffer" : "string",
          registryKeys: config.keyFormat === "schema-registry",
        },
        deliveryMode: config.deliveryMode === "auto-commit" || exactlyOnce ? config.deliveryMode : "at-least-once",
        readUncommitted: config.isolationLevel === "read_uncommitted",
        maxUnsettled: numberSetting(config.maxUnsettled, KAFKA_IN_DEFAULTS.maxUnsettled, 1, 1_000_000),
        batchRecords: config.outputMode === "batch" ? numberSetting(config.batchRecords, KAFKA_IN_DEFAULTS.batchRecords, 1, 100_000) : undefined,
        batchWaitMs: numberSetting(config.batchWaitMs, KAFKA_IN_DEFAULTS.batchWaitMs, 0, 1000),
        commitIntervalMs: exactlyOnce ? numberSetting(config.transactionMs, KAFKA_IN_DEFAULTS.transactionMs, 10, 60_000) : COMMIT_INTERVAL_MS,
        deadLetterTopic,
        refusalPolicy: config.refusalPolicy === "skip" ? "skip" : "stop",
        schemas: registry?.client ? new SchemaDecoder(registry.client) : undefined,
      },
      {
        onRecord: (msg, decodeError) => {
          if (decodeError) {
            // the record is reported with its original text, then counts as dealt with
            const key = { "too-deep": "kafka-in.errors.too-deep", invalid: "kafka-in.errors.invalid-json", schema: "kafka-in.errors.schema" }[decodeError.reason];
            const message = RED._(key, { depth: MAX_JSON_DEPTH, error: decodeError.message });
            this.error(message, msg);
            settleMessage(msg, "failed", { error: message, node: this.id });
            return;
          }
          this.send(msg);
        },
        onBatch: (msg) => this.send(msg),
        onState: showState,
        onRefused: reportRefusal,
        onRegistryWait: (error) => {
          if (error) this.warn(RED._("kafka-in.errors.registry-wait", { error: error.message }));
          registryWait = error;
          render();
        },
        onConnectionTrouble: (reason) => {
          trouble = { reason, at: Date.now() };
          render();
        },
        onAborted: (reason, records) => {
          // what reaches Catch says what happened to the records: nothing of them is written, they are read again
          this.error(RED._("kafka-in.errors.aborted", { reason, records }), { payload: reason, topic, records });
          abort = { reason, at: Date.now() };
          render();
        },
        onFenced: (reason) => this.warn(RED._("kafka-in.errors.fenced", { reason })),
        onDeadLetterRetry: (error) => {
          if (error) this.warn(RED._("kafka-in.errors.dead-letter-retry", { topic: deadLetterTopic, error: error.message }));
          deadLetterRetry = error;
          render();
        },
      },
    );
    let lastFailed = 0;
    let lastCommits = 0;
    const statusTimer = setInterval(() => {
      const failed = loop.failed - lastFailed;
      lastFailed = loop.failed;
      const rate = Math.round((failed * 1000) / STATUS_INTERVAL_MS);
      const commits = loop.transaction?.commits ?? 0;
      const transactionRate = Math.round(((commits - lastCommits) * 1000) / STATUS_INTERVAL_MS);
      lastCommits = commits;
      const now = Date.now();
      const troubleOver = trouble !== undefined && now - trouble.at >= TROUBLE_SHOWN_MS;
      const abortOver = abort !== undefined && now - abort.at >= TROUBLE_SHOWN_MS;
      if (rate === failedPerS && transactionRate === transactionsPerS && !troubleOver && !abortOver) return;
      if (troubleOver) trouble = undefined;
      if (abortOver) abort = undefined;
      failedPerS = rate;
      transactionsPerS = transactionRate;
      render();
    }, STATUS_INTERVAL_MS);

    // a failure to start or a crash is shown in status and retried by the loop until close
    loop.start();

    this.on("close", (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
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

/**
 * The transactional id of an exactly-once kafka-in: the same for the same node of the
 * same Node-RED (host and user directory) across restarts and redeploys, so that a new
 * instance fences the old one; different between two Node-RED instances of one group.
 */
function transactionalId(groupId: string, nodeId: string, userDir: unknown): string {
  const instance = createHash("sha256").update(`${hostname()}:${String(userDir)}`).digest("hex").slice(0, 12);
  return `node-red-${groupId}-${nodeId}-${instance}`;
}

/** "topic[partition] offset N", as the status and the errors name a record. */
function where(refusal: Refusal): string {
  return `${refusal.topic}[${refusal.partition}] offset ${refusal.offset}`;
}
