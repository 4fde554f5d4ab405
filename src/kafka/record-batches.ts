import type { RecordMessage } from "./record-codec";
import type { SettlementHandle } from "./settlement";

/**
 * kafka-in's "one message per batch" output: the records of one fetch of one partition
 * in one msg. msg.payload is the array of their decoded values; msg.kafka settles them
 * all at once and gives, in the same order, each record's offset, key, headers and
 * timestamp. Every array of msg.kafka stays as long as msg.payload while the nodes
 * narrow a batch (rows that failed leave it with withRows()).
 */
export interface BatchHandle extends SettlementHandle {
  offsets: string[];
  /** The offset of the batch's last record (offset is its first's). */
  lastOffset: string;
  keys: (string | Buffer | null)[];
  headers: Record<string, string | Buffer>[];
  /** Milliseconds since 1970. */
  timestamps: number[];
}

export interface BatchMessage {
  payload: unknown[];
  topic: string;
  partition: number;
  kafka: BatchHandle;
  [property: string]: unknown;
}

/** One batch msg of records decoded one by one (all of one partition, in offset order). */
export function batchMessage(records: RecordMessage[]): BatchMessage {
  const first = records[0];
  const kafka: BatchHandle = {
    source: first.kafka.source,
    topic: first.topic,
    partition: first.partition,
    offset: first.offset,
    lastOffset: records[records.length - 1].offset,
    offsets: records.map((record) => record.offset),
    keys: records.map((record) => record.key),
    headers: records.map((record) => record.headers),
    timestamps: records.map((record) => record.timestamp),
  };
  if (first.kafka.transactional) kafka.transactional = true;
  return { payload: records.map((record) => record.payload), topic: first.topic, partition: first.partition, kafka };
}

/** Whether a msg is a batch of records from kafka-in. */
export function isBatchMessage(msg: unknown): msg is BatchMessage {
  const kafka = (msg as { kafka?: Partial<BatchHandle> } | undefined)?.kafka;
  return Array.isArray(kafka?.offsets) && Array.isArray((msg as { payload?: unknown }).payload);
}

/**
 * A shallow copy of a msg that carries only some of its rows: for a batch msg, its
 * msg.kafka arrays (and so its settlement) narrowed to the rows at `indexes`, in their
 * order; any other msg is copied as it is. The payload is left for the caller to set.
 */
export function withRows<T extends object>(msg: T, indexes: number[]): T {
  const kafka = (msg as { kafka?: unknown }).kafka;
  if (!isBatchMessage(msg) || indexes.length === 0) return { ...msg };
  const handle = kafka as BatchHandle;
  const pick = <V>(values: V[]): V[] => indexes.map((index) => values[index]);
  const offsets = pick(handle.offsets);
  const narrowed: BatchHandle = {
    ...handle,
    offset: offsets[0],
    lastOffset: offsets[offsets.length - 1],
    offsets,
    keys: pick(handle.keys),
    headers: pick(handle.headers),
    timestamps: pick(handle.timestamps),
  };
  return { ...msg, kafka: narrowed };
}
