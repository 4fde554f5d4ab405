/**
 * The part of Confluent's native client (its node-rdkafka style API) that the librdkafka
 * engine uses, typed here: the client is an optional dependency, and the project must
 * build where it could not be installed.
 */
export interface NativeError extends Error {
  code: number;
  isFatal?: boolean;
  isRetriable?: boolean;
  /** A transaction's operation failed and the transaction must be aborted. */
  isTxnRequiresAbort?: boolean;
}

export interface NativeTopicPartition {
  topic: string;
  partition: number;
  offset?: number;
}

export interface NativeMessage {
  topic: string;
  partition: number;
  offset: number;
  value: Buffer | null;
  key?: Buffer | string | null;
  timestamp?: number;
  /** One object per header, in order, each with one name. */
  headers?: Record<string, Buffer | string>[];
}

export interface NativeDeliveryReport {
  topic: string;
  partition: number;
  offset: number;
  opaque?: unknown;
}

/** A line of librdkafka's log; severity as syslog's (3 error, 4 warning, ...). */
export interface NativeLogEntry {
  severity: number;
  fac: string;
  message: string;
}

export interface NativeMetadata {
  topics: { name: string; partitions: { id: number }[] }[];
}

type Config = Record<string, string | number | boolean | ((...args: never[]) => unknown)>;

interface NativeClient {
  connect(options: { timeout?: number; topic?: string }, callback: (error: NativeError | null) => void): void;
  disconnect(callback: (error: NativeError | null) => void): void;
  isConnected(): boolean;
  getMetadata(options: { topic?: string; timeout?: number }, callback: (error: NativeError | null, metadata: NativeMetadata) => void): void;
  on(event: "event.error", listener: (error: NativeError) => void): this;
  on(event: "event.log", listener: (entry: NativeLogEntry) => void): this;
  /** A failed OAUTHBEARER token refresh (the client emits it as a plain 'error': unheard, it would throw). */
  on(event: "error", listener: (error: Error) => void): this;
  on(event: "disconnected", listener: () => void): this;
  on(event: "ready", listener: () => void): this;
}

export interface NativeConsumer extends NativeClient {
  subscribe(topics: (string | RegExp)[]): void;
  consume(count: number, callback: (error: NativeError | null, messages: NativeMessage[]) => void): void;
  setDefaultConsumeTimeout(timeoutMs: number): void;
  setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void;
  commitCb(offsets: NativeTopicPartition[], callback: (error: NativeError | null) => void): void;
  pause(partitions: NativeTopicPartition[]): void;
  resume(partitions: NativeTopicPartition[]): void;
  seek(position: NativeTopicPartition & { offset: number }, timeoutMs: number, callback: (error: NativeError | null) => void): void;
  assign(partitions: NativeTopicPartition[]): void;
  unassign(): void;
  assignments(): NativeTopicPartition[];
}

export interface NativeProducer extends NativeClient {
  produce(topic: string, partition: number | null, value: Buffer | null, key: Buffer | null | undefined, timestamp: number | null, opaque: unknown, headers?: Record<string, Buffer>[]): void;
  setPollInBackground(set: boolean): void;
  initTransactions(timeoutMs: number, callback: (error: NativeError | null) => void): void;
  beginTransaction(callback: (error: NativeError | null) => void): void;
  /** Adds offsets with the consumer's group metadata (KIP-447) to the open transaction. */
  sendOffsetsToTransaction(offsets: NativeTopicPartition[], consumer: NativeConsumer, timeoutMs: number, callback: (error: NativeError | null) => void): void;
  commitTransaction(timeoutMs: number, callback: (error: NativeError | null) => void): void;
  abortTransaction(timeoutMs: number, callback: (error: NativeError | null) => void): void;
  flush(timeoutMs: number, callback: (error: NativeError | null) => void): void;
  on(event: "delivery-report", listener: (error: NativeError | null, report: NativeDeliveryReport) => void): this;
  on(event: "event.error", listener: (error: NativeError) => void): this;
  on(event: "event.log", listener: (entry: NativeLogEntry) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  on(event: "disconnected", listener: () => void): this;
  on(event: "ready", listener: () => void): this;
}

/** The module: its constructors, error codes and version. */
export interface LibrdkafkaClient {
  KafkaConsumer: new (config: Config, topicConfig?: Config) => NativeConsumer;
  Producer: new (config: Config, topicConfig?: Config) => NativeProducer;
  CODES: { ERRORS: Record<string, number> };
  librdkafkaVersion: string;
}
