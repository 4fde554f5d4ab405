import { ProducerStoppedError } from "../produce-errors";
import { RegistryUnavailableError, type RegistryClient } from "./registry-client";
import { SchemaEncoder, type EncoderSettings } from "./serdes";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * kafka-out's values as registry records. A record that may wait (one from kafka-in,
 * whose consumer bounds how many are in flight) waits out a registry that does not
 * answer, asking again 1 s, then up to 30 s apart; any other fails at once. A value that
 * does not fit the schema throws a SchemaMismatchError naming the field.
 */
export class RegistryValueWriter {
  private readonly encoder: SchemaEncoder;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    client: RegistryClient,
    settings: EncoderSettings,
    /** The registry does not answer and records wait (with the failure), or it answers again (undefined). */
    private readonly waiting: (error: Error | undefined) => void,
  ) {
    this.encoder = new SchemaEncoder(client, settings);
  }

  async value(topic: string, payload: unknown, mayWait: boolean): Promise<Buffer> {
    let delay = FIRST_RETRY_MS;
    let waited = false;
    for (;;) {
      try {
        await this.encoder.prepare(topic);
        if (waited) this.waiting(undefined);
        return this.encoder.encode(topic, payload);
      } catch (error) {
        if (!(error instanceof RegistryUnavailableError) || !mayWait) throw error;
        // closing: the record is left unsettled, to be read again
        if (this.stopped) throw new ProducerStoppedError();
        waited = true;
        this.waiting(error);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, delay);
      });
      delay = Math.min(MAX_RETRY_MS, delay * 2);
    }
  }

  /** Ends every wait: the records waiting are left unsettled (the node is closing). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}
