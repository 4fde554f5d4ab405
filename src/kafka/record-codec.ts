import type { IHeaders, KafkaMessage, Message } from "kafkajs";
import type { SettlementHandle } from "./settlement";

export type PayloadFormat = "json" | "text";

/** The msg properties kafka-in sets, one msg per record. */
export interface RecordMessage {
  payload: unknown;
  key: string | null;
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  headers: Record<string, string>;
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
  format: PayloadFormat,
  source: string,
): { msg: RecordMessage; error?: RecordDecodeError } {
  const text = message.value === null ? null : message.value.toString("utf8");
  const msg: RecordMessage = {
    payload: text,
    key: message.key === null || message.key === undefined ? null : message.key.toString("utf8"),
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    headers: decodeHeaders(message.headers),
    kafka: { source, topic, partition, offset: message.offset },
  };
  if (format === "json" && text !== null) {
    try {
      msg.payload = JSON.parse(text);
    } catch (error) {
      return { msg, error: new RecordDecodeError((error as Error).message) };
    }
  }
  return { msg };
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    decoded[name] = (Array.isArray(value) ? value : [value]).map((part) => part.toString()).join(",");
  }
  return decoded;
}

/** Turns a msg into a record value: Buffers as bytes, strings as UTF-8, anything else as JSON. */
export function encodeValue(payload: unknown): Buffer | string | null {
  if (payload === null || payload === undefined) return null;
  if (Buffer.isBuffer(payload) || typeof payload === "string") return payload;
  return JSON.stringify(payload);
}

export function encodeMessage(msg: { payload?: unknown; key?: unknown; headers?: unknown }): Message {
  const message: Message = { value: encodeValue(msg.payload) };
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
