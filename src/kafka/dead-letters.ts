import type { IHeaders, KafkaMessage } from "kafkajs";
import type { KafkaConnection } from "./connection";
import type { Failure, SettlementHandle } from "./settlement";

/** Headers added to a dead letter, beside the record's own. */
export const DEAD_LETTER_HEADERS = {
  error: "dlq.error",
  node: "dlq.node",
  topic: "dlq.source.topic",
  partition: "dlq.source.partition",
  offset: "dlq.source.offset",
} as const;

/**
 * Writes a failed record, byte for byte (key, value, headers), to the dead-letter topic,
 * with headers that say what failed, where, and where the record came from.
 */
export class DeadLetterWriter {
  constructor(
    private readonly connection: KafkaConnection,
    readonly topic: string,
  ) {}

  async write(record: KafkaMessage, source: SettlementHandle, failure: Failure | undefined): Promise<void> {
    const headers: IHeaders = {
      ...record.headers,
      [DEAD_LETTER_HEADERS.error]: failure?.error ?? "unknown error",
      [DEAD_LETTER_HEADERS.node]: failure?.node ?? "",
      [DEAD_LETTER_HEADERS.topic]: source.topic,
      [DEAD_LETTER_HEADERS.partition]: String(source.partition),
      [DEAD_LETTER_HEADERS.offset]: source.offset,
    };
    const producer = await this.connection.producer();
    await producer.send({ topic: this.topic, acks: -1, messages: [{ key: record.key, value: record.value, headers }] });
  }
}
