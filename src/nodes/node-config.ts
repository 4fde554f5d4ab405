import type { Node, NodeDef } from "node-red";
import type { KafkaConnection } from "../kafka/connection";
import type { Codec, ConnectionState } from "../kafka/engine";
import type { EngineChoice } from "../kafka/engines/open-engine";
import type { DeliveryMode, RefusalPolicy } from "../kafka/consumer-loop";
import type { SaslMechanism } from "../kafka/security";
import type { KeyHeaderFormat, PayloadFormat } from "../kafka/record-codec";
import type { RegistryClient } from "../kafka/schema-registry/registry-client";
import type { RegistryConfig, RegistryCredentials, WriterConfig } from "../kafka/schema-registry/registry-settings";
import type { ModelKind } from "../python/protocol";

/** Node properties exactly as the editor saves them (see nodes/*.html `defaults`). */

export interface KafkaBrokerDef extends NodeDef {
  brokers: string;
  clientId: string;
  tls: boolean;
  /** Verify the broker's certificate; on unless turned off (absent in flows made before it existed). */
  tlsVerify?: boolean;
  /** Paths of PEM files, used when nothing is pasted in the matching credential. */
  tlsCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  saslMechanism: SaslMechanism;
  /** OAUTHBEARER's client-credentials grant (the secret is a credential). */
  oauthTokenEndpoint?: string;
  oauthClientId?: string;
  oauthScope?: string;
  oauthAudience?: string;
  /** SASL extensions, "name=value,name=value". */
  oauthExtensions?: string;
  /** Which Kafka client the nodes use (absent in flows made before it existed: auto). */
  engine?: EngineChoice;
}

/** Secrets, kept by Node-RED as credentials: never in an exported flow. */
export interface KafkaBrokerCredentials {
  username?: string;
  password?: string;
  /** PEM texts pasted in the dialog. */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsPassphrase?: string;
  oauthClientSecret?: string;
}

/** What kafka-in and kafka-out see of their kafka-broker config node. */
export interface KafkaBrokerNode extends Node<KafkaBrokerCredentials> {
  /** Absent when its engine cannot run (then configError says why). */
  connection?: KafkaConnection;
  /** Why the configuration cannot work (for example an unreadable certificate file); nodes using it do not start. */
  configError?: string;
  /**
   * A node that produces registers: it is told the shared producer's state, and the
   * producer disconnects when the last registered node deregisters.
   */
  register(user: Node, listener: (state: ConnectionState) => void): void;
  deregister(user: Node): Promise<void>;
}

export interface KafkaInDef extends NodeDef {
  broker: string;
  topic: string;
  /** "str" (the default) or "env": topic holds an environment variable's name. */
  topicType?: "str" | "env";
  groupId: string;
  fromBeginning: boolean;
  payloadFormat: PayloadFormat;
  keyHeaderFormat: KeyHeaderFormat;
  /** "schema-registry": keys in the registry's wire format, decoded to values; else as keyHeaderFormat says. */
  keyFormat?: string;
  /** read_committed (absent: the default) or read_uncommitted. */
  isolationLevel?: string;
  deliveryMode: DeliveryMode;
  maxUnsettled: number | string;
  /** Exactly-once: how often a transaction is committed, in ms. */
  transactionMs?: number | string;
  /** "batch": one msg per fetched batch of a partition (absent in flows made before it existed: one msg per record). */
  outputMode?: "record" | "batch";
  /** Batch output: the most records in one msg. */
  batchRecords?: number | string;
  /** Batch output: how long a fetch waits for records to fill a batch, in ms. */
  batchWaitMs?: number | string;
  /** Failed records are written here (blank: none). */
  deadLetterTopic: string;
  /** What becomes of a record the broker refuses for good (absent in flows made before it existed: stop). */
  refusalPolicy?: RefusalPolicy;
  /** The schema-registry config node, for payload format "schema-registry". */
  registry?: string;
}

/** kafka-in settings used when the node leaves them blank (the editor offers the same). */
export const KAFKA_IN_DEFAULTS = {
  /** Enough to keep reading while a produce request and a commit are on their way (see README, Delivery semantics). */
  maxUnsettled: 2000,
  /** As Kafka Streams commits under exactly-once. */
  transactionMs: 100,
  /** As many as a hand-written consumer commonly takes per model call. */
  batchRecords: 500,
  /** A batch of a slow stream waits at most this long for more records. */
  batchWaitMs: 100,
} as const;

export type AcksSetting = "all" | "leader" | "none";

/** With the registry writer's settings (subject, schema), used with value format "schema-registry". */
export interface KafkaOutDef extends NodeDef, WriterConfig {
  broker: string;
  topic: string;
  /** "str" (the default: blank means msg.topic), or msg, flow, global or env: where to read the topic per message. */
  topicType?: "str" | "msg" | "flow" | "global" | "env";
  /** "schema-registry": msg.key written in the latest schema of `<topic>-key`; else as text or bytes. */
  keyFormat?: string;
  acks: AcksSetting;
  compression: Codec;
  /** An array msg.payload is written as one record per element (a batch msg from kafka-in always is). */
  splitArrays?: boolean;
  /** Sends each written msg on, with msg.delivery = {topic, partition, offset}. */
  metadata: boolean;
  /** Takes the record's partition from msg.partition (else the key's hash picks it). */
  partitionFromMsg: boolean;
  /** Takes the record's timestamp from msg.timestamp (else the time of writing). */
  timestampFromMsg: boolean;
  /** Writes with an idempotent producer (forces acks all). */
  idempotent: boolean;
  /** "auto" (objects as JSON, strings as text, Buffers as bytes) or "schema-registry". */
  valueFormat?: string;
  /** The schema-registry config node, for value format "schema-registry". */
  registry?: string;
}

export type OutputShape = "auto" | "raw" | "value" | "label";

/** python-model settings used when the node leaves them blank (the editor offers the same). */
export const PYTHON_MODEL_DEFAULTS = {
  workers: 1,
  batchSize: 256,
  maxWaitMs: 5,
  timeoutMs: 30_000,
} as const;

export interface PythonModelDef extends NodeDef {
  kind: ModelKind;
  modelPath: string;
  handlerPath: string;
  /** Keras backend: tensorflow or jax (the dialog offers these; torch runs where it is installed). */
  backend: string;
  /** scikit-learn method: predict or predict_proba. */
  method: string;
  /** ONNX: the output to use; blank chooses (a classifier's probabilities, else the first output). */
  onnxOutput: string;
  /** H2O: an unknown categorical level is scored as missing ("na") or fails its record ("fail"). */
  unknownLevels: string;
  python: string;
  workers: number | string;
  batchSize: number | string;
  maxWaitMs: number | string;
  timeoutMs: number | string;
  ordered: boolean;
  /** msg property holding the features (default payload). */
  featuresProperty: string;
  /** msg property receiving the prediction (default payload). */
  outputProperty: string;
  output: OutputShape;
  /** Comma-separated input names, for features sent as an object, when the model does not name them. */
  featureNames: string;
  /** Adds msg.timing (queue wait, scoring time, batch size). */
  timing: boolean;
  /** The features property holds an array of rows, each scored as one record (a batch msg from kafka-in always does). */
  rowsPerMessage?: boolean;
  /** Loads the model again when its file changes. */
  reload: boolean;
}

/** Editor numbers may arrive as strings; a blank or invalid one takes the default. */
export function numberSetting(value: number | string | undefined, fallback: number, min: number, max: number): number {
  const parsed = typeof value === "number" ? value : Number.parseInt(String(value ?? ""), 10);
  if (!Number.isFinite(parsed)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(parsed)));
}

export interface SchemaRegistryDef extends NodeDef, RegistryConfig {
  urls: string;
  auth: string;
}

export type SchemaRegistryCredentials = RegistryCredentials;

export interface SchemaRegistryNode extends Node<SchemaRegistryCredentials> {
  /** Unset when the settings are unusable; configError then says why. */
  client?: RegistryClient;
  configError?: string;
}
