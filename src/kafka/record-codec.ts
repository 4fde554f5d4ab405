import type { IHeaders, KafkaMessage, Message } from "kafkajs";
import type { SettlementHandle } from "./settlement";

export type PayloadFormat = "json" | "text" | "buffer";
/** How keys and header values are given: UTF-8 strings, or Buffers as read. */
export type KeyHeaderFormat = "string" | "buffer";

export interface DecodeFormats {
  payload: PayloadFormat;
  keyHeaders: KeyHeaderFormat;
}

/** The msg properties kafka-in sets, one msg per record. */
export interface RecordMessage {
  payload: unknown;
  key: string | Buffer | null;
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  headers: Record<string, string | Buffer>;
  kafka: SettlementHandle;
  [property: string]: unknown;
}

export class RecordDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordDecodeError";
  }
}

/**
 * Builds the msg for a record. A value that is not valid JSON in json format still
 * yields a msg (payload = the text) together with the error, so the original record
 * can reach a Catch node.
 */
export function decodeRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
  formats: DecodeFormats,
  source: string,
): { msg: RecordMessage; error?: RecordDecodeError } {
  const asBuffers = formats.keyHeaders === "buffer";
  const value = message.value ?? null;
  const msg: RecordMessage = {
    payload: value === null || formats.payload === "buffer" ? value : value.toString("utf8"),
    key: message.key == null ? null : asBuffers ? message.key : message.key.toString("utf8"),
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    headers: decodeHeaders(message.headers, asBuffers),
    kafka: { source, topic, partition, offset: message.offset },
  };
  if (formats.payload === "json" && typeof msg.payload === "string") {
    try {
      msg.payload = JSON.parse(msg.payload);
    } catch (error) {
      return { msg, error: new RecordDecodeError((error as Error).message) };
    }
  }
  return { msg };
}

function decodeHeaders(headers: IHeaders | undefined, asBuffers: boolean): Record<string, string | Buffer> {
  const decoded: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const parts = Array.isArray(value) ? value : [value];
    if (asBuffers) decoded[name] = Buffer.concat(parts.map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(part))));
    else decoded[name] = parts.map((part) => part.toString()).join(",");
  }
  return decoded;
}

/** Turns a msg into a record value: Buffers as bytes, strings as UTF-8, anything else as JSON. */
export function encodeValue(payload: unknown): Buffer | string | null {
  if (payload === null || payload === undefined) return null;
  if (Buffer.isBuffer(payload) || typeof payload === "string") return payload;
  return JSON.stringify(payload);
}

/** A msg property that cannot become part of a record; the message names it. */
export class RecordEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordEncodeError";
  }
}

/** Which record fields come from the msg besides payload, key and headers. */
export interface EncodeFields {
  /** msg.partition: a whole number from 0. */
  partition?: boolean;
  /** msg.timestamp: milliseconds since the epoch, a Date, or a date string. */
  timestamp?: boolean;
}

export interface OutgoingMessage {
  payload?: unknown;
  key?: unknown;
  headers?: unknown;
  partition?: unknown;
  timestamp?: unknown;
}

function partitionOf(value: unknown): number {
  const partition = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof partition !== "number" || !Number.isInteger(partition) || partition < 0) {
    throw new RecordEncodeError(`msg.partition must be a whole number from 0, not ${JSON.stringify(value)}`);
  }
  return partition;
}

function timestampOf(value: unknown): string {
  const time = value instanceof Date ? value.getTime() : typeof value === "string" && !/^\d+$/.test(value) ? Date.parse(value) : Number(value);
  if (value === null || value === "" || !Number.isFinite(time) || time < 0) {
    throw new RecordEncodeError(`msg.timestamp must be milliseconds since 1970, a Date or a date string, not ${JSON.stringify(value)}`);
  }
  return String(Math.trunc(time));
}

/** Builds a record from a msg; throws RecordEncodeError for a partition or timestamp it cannot use. */
export function encodeMessage(msg: OutgoingMessage, fields: EncodeFields = {}): Message {
  const message: Message = { value: encodeValue(msg.payload) };
  if (fields.partition && msg.partition !== undefined) message.partition = partitionOf(msg.partition);
  if (fields.timestamp && msg.timestamp !== undefined) message.timestamp = timestampOf(msg.timestamp);
  if (msg.key !== undefined && msg.key !== null) {
    message.key = Buffer.isBuffer(msg.key) ? msg.key : String(msg.key);
  }
  if (msg.headers && typeof msg.headers === "object") {
    const headers: IHeaders = {};
    for (const [name, value] of Object.entries(msg.headers as Record<string, unknown>)) {
      if (value !== undefined && value !== null) headers[name] = Buffer.isBuffer(value) ? value : String(value);
    }
    message.headers = headers;
  }
  return message;
}
