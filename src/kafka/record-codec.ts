import { isUtf8 } from "node:buffer";
import type { ConsumedRecord, Headers, OutgoingRecord } from "./engine";
import type { SettlementHandle } from "./settlement";

export type PayloadFormat = "json" | "text" | "buffer" | "schema-registry";
/** How keys and header values are given: UTF-8 strings, or Buffers as read. */
export type KeyHeaderFormat = "string" | "buffer";

export interface DecodeFormats {
  payload: PayloadFormat;
  keyHeaders: KeyHeaderFormat;
  /** Keys in a Schema Registry's wire format, decoded as values are (else as keyHeaders says). */
  registryKeys?: boolean;
}

/** Reads a value in a Schema Registry's wire format (SchemaDecoder, prepared for the record's batch). */
export interface ValueDecoder {
  decode(value: Buffer | null): { payload: unknown; schema: { id: number; type: string } };
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
  /**
   * keyBuffer: the key's bytes, when the key is given as a string but is not valid UTF-8
   * (the string then has U+FFFD in their place); schema, keySchema: the registry schemas the
   * value and the key were written in.
   */
  kafka: SettlementHandle & { keyBuffer?: Buffer; schema?: { id: number; type: string }; keySchema?: { id: number; type: string } };
  [property: string]: unknown;
}

/** Deeper JSON than this is refused: Node-RED copies a msg (for Catch, for a second wire) recursively, and fails at a few thousand levels. */
export const MAX_JSON_DEPTH = 1000;

export class RecordDecodeError extends Error {
  constructor(
    message: string,
    /** invalid: not JSON; too-deep: JSON nested deeper than MAX_JSON_DEPTH; schema: not readable with the schema registry. */
    readonly reason: "invalid" | "too-deep" | "schema",
  ) {
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
  message: ConsumedRecord,
  formats: DecodeFormats,
  source: string,
  schemas?: ValueDecoder,
): { msg: RecordMessage; error?: RecordDecodeError } {
  const asBuffers = formats.keyHeaders === "buffer";
  const value = message.value ?? null;
  const msg: RecordMessage = {
    payload: value === null || formats.payload === "buffer" || formats.payload === "schema-registry" ? value : value.toString("utf8"),
    key: message.key == null ? null : asBuffers ? message.key : message.key.toString("utf8"),
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    headers: decodeHeaders(message.headers, asBuffers),
    kafka: { source, topic, partition, offset: message.offset },
  };
  if (formats.registryKeys && message.key) {
    // the key's bytes stay in msg.key when it cannot be read, for Catch and the dead-letter topic
    msg.key = message.key;
    if (!schemas) return { msg, error: new RecordDecodeError("no schema registry is configured", "schema") };
    try {
      const decoded = schemas.decode(message.key);
      msg.key = decoded.payload as RecordMessage["key"];
      msg.kafka.keySchema = decoded.schema;
    } catch (error) {
      return { msg, error: new RecordDecodeError(`the key: ${(error as Error).message}`, "schema") };
    }
  } else if (!asBuffers && message.key && !isUtf8(message.key)) msg.kafka.keyBuffer = message.key;
  if (formats.payload === "schema-registry" && value !== null) {
    if (!schemas) return { msg, error: new RecordDecodeError("no schema registry is configured", "schema") };
    try {
      const decoded = schemas.decode(value);
      msg.payload = decoded.payload;
      msg.kafka.schema = decoded.schema;
    } catch (error) {
      // the payload stays the record's bytes, for Catch and the dead-letter topic
      return { msg, error: new RecordDecodeError((error as Error).message, "schema") };
    }
  }
  if (formats.payload === "json" && typeof msg.payload === "string") {
    if (nestedDeeperThan(msg.payload, MAX_JSON_DEPTH)) {
      return { msg, error: new RecordDecodeError(`nested deeper than ${MAX_JSON_DEPTH} levels`, "too-deep") };
    }
    try {
      msg.payload = JSON.parse(msg.payload);
    } catch (error) {
      return { msg, error: new RecordDecodeError((error as Error).message, "invalid") };
    }
  }
  return { msg };
}

/** Whether JSON text opens more than `limit` arrays and objects inside each other. */
function nestedDeeperThan(text: string, limit: number): boolean {
  // each level takes two characters at least: shorter text cannot be deeper (most records)
  if (text.length <= limit * 2) return false;
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Values larger than this are cut short in a msg reported to Catch: Node-RED copies that msg for each Catch node. */
const REPORTED_VALUE_MAX_BYTES = 64 * 1024;
const REPORTED_VALUE_KEPT_BYTES = 1024;

/**
 * The msg a record was emitted as, built again for an error report. A value over 64 KiB
 * is cut to its first KiB as text, and `msg.truncated` gives its full size in bytes (the
 * record itself is still whole in its topic).
 */
export function reportedRecord(topic: string, partition: number, message: ConsumedRecord, formats: DecodeFormats, source: string): RecordMessage {
  const value = message.value;
  if (!value || value.length <= REPORTED_VALUE_MAX_BYTES) return decodeRecord(topic, partition, message, formats, source).msg;
  const { msg } = decodeRecord(topic, partition, { ...message, value: value.subarray(0, REPORTED_VALUE_KEPT_BYTES) }, { ...formats, payload: "text" }, source);
  msg.truncated = { bytes: value.length };
  return msg;
}

function decodeHeaders(headers: Headers | undefined, asBuffers: boolean): Record<string, string | Buffer> {
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
  try {
    return JSON.stringify(payload);
  } catch (error) {
    if (error instanceof RangeError) throw new RecordEncodeError("msg.payload is nested too deeply to be written as JSON");
    throw error;
  }
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
  /** The value is written by another encoder (the schema registry's): msg.payload is left to it. */
  valueElsewhere?: boolean;
  /** Likewise the key: msg.key is left to another encoder. */
  keyElsewhere?: boolean;
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
export function encodeMessage(msg: OutgoingMessage, fields: EncodeFields = {}): OutgoingRecord {
  const message: OutgoingRecord = { value: fields.valueElsewhere ? null : encodeValue(msg.payload) };
  if (fields.partition && msg.partition !== undefined) message.partition = partitionOf(msg.partition);
  if (fields.timestamp && msg.timestamp !== undefined) message.timestamp = timestampOf(msg.timestamp);
  if (msg.key !== undefined && msg.key !== null && !fields.keyElsewhere) {
    message.key = Buffer.isBuffer(msg.key) ? msg.key : String(msg.key);
  }
  if (msg.headers && typeof msg.headers === "object") {
    const headers: Headers = {};
    for (const [name, value] of Object.entries(msg.headers as Record<string, unknown>)) {
      if (value !== undefined && value !== null) headers[name] = Buffer.isBuffer(value) ? value : String(value);
    }
    message.headers = headers;
  }
  return message;
}
