import type { ConsumedRecord, EngineProducer, Headers } from "./engine";
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
  /** `producer`: a producer of its own, or (exactly-once) one that writes in the consumer's transaction. */
  constructor(
    private readonly producer: Pick<EngineProducer, "send" | "stop">,
    readonly topic: string,
  ) {}

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
