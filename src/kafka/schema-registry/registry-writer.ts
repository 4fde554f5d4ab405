import { ProducerStoppedError } from "../produce-errors";
import { RetryBackoff } from "../retry-backoff";
import { RegistryUnavailableError, type RegistryClient } from "./registry-client";
import { SchemaEncoder, type EncoderSettings } from "./serdes";

/**
 * kafka-out's values as registry records. A record that may wait (one from kafka-in,
 * whose consumer bounds how many are in flight) waits out a registry that does not
 * answer, asking again 1 s, then up to 30 s apart (RetryBackoff); any other fails at
 * once. A value that does not fit the schema throws a SchemaMismatchError naming the field.
 */
export class RegistryValueWriter {
  private readonly encoder: SchemaEncoder;
  private stopped = false;
  /** The waits under way, one per waiting record: stop() ends them all. */
  private readonly waits = new Set<RetryBackoff>();

  constructor(
    client: RegistryClient,
    settings: EncoderSettings,
    /** The registry does not answer and records wait (with the failure), or it answers again (undefined). */
    private readonly waiting: (error: Error | undefined) => void,
  ) {
    this.encoder = new SchemaEncoder(client, settings);
  }

  async value(topic: string, payload: unknown, mayWait: boolean): Promise<Buffer> {
    const backoff = new RetryBackoff({ retrying: (error) => this.waiting(error), recovered: () => this.waiting(undefined) });
    this.waits.add(backoff);
    try {
      for (;;) {
        try {
          await this.encoder.prepare(topic);
          backoff.succeeded();
          return this.encoder.encode(topic, payload);
        } catch (error) {
          if (!(error instanceof RegistryUnavailableError) || !mayWait) throw error;
          // closing: the record is left unsettled, to be read again
          if (this.stopped) throw new ProducerStoppedError();
          await backoff.wait(error);
        }
      }
    } finally {
      this.waits.delete(backoff);
    }
  }

  /** Ends every wait: the records waiting are left unsettled (the node is closing). */
  stop(): void {
    this.stopped = true;
    for (const backoff of this.waits) backoff.cancel();
  }
}
