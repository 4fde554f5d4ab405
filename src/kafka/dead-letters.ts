import type { KafkaConnection } from "./connection";
import type { ConsumedRecord, EngineProducer, Headers, ProducerEvents } from "./engine";
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
 * with headers that say what failed, where, and where the record came from. Failures
 * that may pass are retried until written or stopped; a refusal for good rejects with
 * a ProduceRefusedError.
 */
export class DeadLetterWriter {
  private readonly producer: EngineProducer;

  constructor(
    connection: KafkaConnection,
    readonly topic: string,
    events: ProducerEvents,
  ) {
    this.producer = connection.engine.producer({ acks: -1, compression: "none", idempotent: false, deliveries: false }, events);
  }

  async write(record: ConsumedRecord, source: SettlementHandle, failure: Failure | undefined): Promise<void> {
    const headers: Headers = {
      ...record.headers,
      [DEAD_LETTER_HEADERS.error]: failure?.error ?? "unknown error",
      [DEAD_LETTER_HEADERS.node]: failure?.node ?? "",
      [DEAD_LETTER_HEADERS.topic]: source.topic,
      [DEAD_LETTER_HEADERS.partition]: String(source.partition),
      [DEAD_LETTER_HEADERS.offset]: source.offset,
    };
    await this.producer.send(this.topic, { key: record.key, value: record.value, headers }, { retry: true });
  }

  /** Dead letters not yet written are given up: their records stay unsettled, to be read again. */
  stop(): void {
    this.producer.stop();
  }
}
