import type { CommitPoint } from "./offset-tracker";
import type { SecurityOptions } from "./security";

/**
 * What the nodes need of a Kafka client, met by two engines: kafkajs (pure JavaScript,
 * installs anywhere) and librdkafka (Confluent's native client: faster, every codec).
 * Everything above this file (offset tracking, settlement, dead letters, back-pressure,
 * the nodes) is the same on both.
 */
export type EngineName = "kafkajs" | "librdkafka";

/** Record headers: a value per name, an array where a name repeats. */
export type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A record as read. */
export interface ConsumedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Headers;
  offset: string;
  /** Milliseconds since 1970. */
  timestamp: string;
}

/** Records of one partition, in offset order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
}

export interface BatchControl {
  /** Whether the consumer still runs and still owns the batch's partition. */
  stillValid(): boolean;
  /** Keeps the consumer in its group while a batch waits (for room, under back-pressure). */
  heartbeat(): Promise<void>;
  /** The last record dealt with; a batch left before its end is read again from the one after. */
  handled(offset: string): void;
}

export interface ConsumerSettings {
  groupId: string;
  /** Topic names, or regular expressions matching topic names. */
  topics: (string | RegExp)[];
  /** Where a group without a committed offset starts: the earliest record, or the next one written. */
  fromBeginning: boolean;
  /** Offsets committed by the engine as records are read; else only through commit(). */
  autoCommit: boolean;
  /**
   * Also read records of transactions not yet committed, and of aborted ones
   * (isolation.level read_uncommitted); by default only what committed transactions wrote.
   */
  readUncommitted?: boolean;
  /**
   * A fetch waits up to this long for records to fill a batch (kafka-in's batch output);
   * absent: it hands over what it has as soon as it has any.
   */
  fillWaitMs?: number;
}

/** What a consumer reports to the loop that drives it. */
export interface ConsumerHandlers {
  connecting(): void;
  /** The group gave this consumer its partitions (at the first join and after each rebalance). */
  assigned(owned: (topic: string, partition: number) => boolean): void;
  /** A fetched batch; more of its partition is handed over only once this resolves. */
  batch(batch: RecordBatch, control: BatchControl): Promise<void>;
  /**
   * A failure. `recovering`: the engine goes on by itself (a broker restarting); else this
   * consumer has stopped for good, and the loop makes a new one.
   */
  failed(error: Error, recovering: boolean): void;
  /** Reading again after a failure it recovered from, with the same partitions. */
  recovered(): void;
  disconnected(): void;
}

export interface EngineConsumer {
  /** Connects, joins the group, subscribes and reads until stop(); rejects if it cannot start. */
  start(): Promise<void>;
  /** Commits, for each partition, the next offset to read. */
  commit(points: CommitPoint[]): Promise<void>;
  /** Reads each partition again from the given offset; a batch being handed over is left. */
  rewind(points: CommitPoint[]): void;
  /** Stops fetching a partition (a record of it could be written nowhere), or fetches it again. */
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  /** Leaves the group and disconnects; what was not committed is read again by the next owner. */
  stop(): Promise<void>;
}

/** A record to write. */
export interface OutgoingRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Headers;
  partition?: number;
  /** Milliseconds since 1970; the time of writing when absent. */
  timestamp?: string;
}

export type Codec = "none" | "gzip" | "snappy" | "lz4" | "zstd";

export interface ProducerSettings {
  /** -1 = all in-sync replicas, 1 = leader only, 0 = no acknowledgement. */
  acks: -1 | 0 | 1;
  compression: Codec;
  /** The broker drops duplicates of the producer's own retries (forces acks all). */
  idempotent: boolean;
  /** Each send resolves with where the record was written (else undefined, which can be cheaper). */
  deliveries: boolean;
}

/** Where the broker put a record; offset "-1" when the broker does not say (acks none). */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
}

export interface SendOptions {
  /**
   * Keep sending, with growing pauses, after failures that may pass (a broker out of
   * reach), until written or stop(). For records from kafka-in: what holds them is
   * bounded by its max unsettled. Without it, such a failure rejects once the client gives up.
   */
  retry?: boolean;
}

/** What a node shows while failures are being retried. */
export interface ProducerEvents {
  retrying?: (error: Error, nextAttemptInMs: number) => void;
  recovered?: () => void;
}

/**
 * Writes records; each send settles on its own: resolved once acknowledged, rejected
 * with a ProduceRefusedError when the broker refuses it for good (the other records are
 * written), or a ProducerStoppedError after stop().
 */
export interface EngineProducer {
  send(topic: string, record: OutgoingRecord, options?: SendOptions): Promise<Delivery | undefined>;
  /** Gives up what is not yet written (rejected as stopped); later sends reject at once. */
  stop(): void;
}

export type ConnectionState = "connecting" | "connected" | "disconnected";

export type LogLevel = "warn" | "info" | "debug";
export type Logger = (level: LogLevel, text: string) => void;

/** Where and how an engine connects: a kafka-broker node's settings. */
export interface BrokerSettings {
  brokers: string[];
  clientId: string;
  /** TLS and SASL; a plain connection without. */
  security?: SecurityOptions;
}

/**
 * A producer whose records, with the offsets of the records they came from, are
 * committed together or not at all (a Kafka transaction). One transaction is open at a
 * time: begin, sends, commit (or abort), begin again.
 */
export interface TransactionalProducer {
  /** Opens a transaction; the first call also fences every older producer of the same transactional id. */
  begin(): Promise<void>;
  /** Writes a record in the open transaction; resolves once the broker has it (visible to read_committed readers only after commit). */
  send(topic: string, record: OutgoingRecord): Promise<Delivery>;
  /** Adds the consumer's offsets, with its group generation (KIP-447), and commits; rejects if the broker refuses either. */
  commit(points: CommitPoint[], consumer: EngineConsumer): Promise<void>;
  /** Aborts the open transaction: its records are never shown to read_committed readers. */
  abort(): Promise<void>;
  /** Aborts what is open and disconnects; the next begin() connects a new client. */
  close(): Promise<void>;
}

/** One client connection of a kafka-broker node, shared by the nodes that use it. */
export interface KafkaEngine {
  readonly name: EngineName;
  /** A word on the client, for the log: its name and version. */
  readonly description: string;
  consumer(settings: ConsumerSettings, handlers: ConsumerHandlers): EngineConsumer;
  /** Producers with equal settings share one client connection, made on first use. */
  producer(settings: ProducerSettings, events?: ProducerEvents): EngineProducer;
  /** Connects the client the producers with these settings use, so that a node can tell at deploy whether the broker answers. */
  connectProducer(settings: ProducerSettings): Promise<void>;
  /** A topic's partition count. */
  partitionCount(topic: string): Promise<number>;
  /** Calls back with each failure the client retries (while connecting, or reconnecting); returns the unsubscribe function. */
  onRetriedError(listener: (error: string) => void): () => void;
  /**
   * A transactional producer for consumers of this engine (undefined: this engine cannot
   * send a consumer's group metadata with its offsets, so it offers no exactly-once).
   */
  transactional?(transactionalId: string): TransactionalProducer;
  /** Disconnects the producers (consumers are stopped by their loops). */
  closeProducers(): Promise<void>;
}
