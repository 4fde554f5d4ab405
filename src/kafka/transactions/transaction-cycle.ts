import type { Delivery, EngineConsumer, OutgoingRecord, TransactionalProducer } from "../engine";
import type { CommitPoint } from "../offset-tracker";

/** The pause before a transaction begins again after the second abort in a row, doubled each time up to MAX. */
const FIRST_ABORT_PAUSE_MS = 500;
const MAX_ABORT_PAUSE_MS = 30_000;

/**
 * The transactions of one exactly-once consumer, one after the other: begin, the results
 * of the records read meanwhile, then commit (with the records' offsets) or abort, and
 * begin again. While a transaction closes, a gate holds the emission of new records:
 * a transaction covers exactly the records emitted while it was open.
 */
export class TransactionCycle {
  /** Transactions committed and aborted since start. */
  commits = 0;
  aborts = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private abortsInARow = 0;
  private closed = false;
  /** Ends a pause under way (close). */
  private endPause: (() => void) | undefined;

  constructor(private readonly producer: TransactionalProducer) {
    this.hold();
  }

  /** Whether records may be emitted now: a transaction is open and not closing. */
  get isOpen(): boolean {
    return this.gate === undefined;
  }

  /** Resolves once records may be emitted again. */
  whenOpen(): Promise<void> {
    return this.gate ?? Promise.resolve();
  }

  /** Holds emission (the transaction is about to close). */
  hold(): void {
    if (!this.gate) this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  private release(): void {
    const open = this.openGate;
    this.gate = undefined;
    this.openGate = undefined;
    open?.();
  }

  /** Opens the first transaction (fencing older producers of the id); rejects if the broker refuses. */
  async start(): Promise<void> {
    this.closed = false;
    await this.producer.begin();
    this.release();
  }

  send(topic: string, record: OutgoingRecord): Promise<Delivery> {
    return this.producer.send(topic, record);
  }

  /** Commits the open transaction with these offsets, then opens the next one. Rejects if either fails: the caller aborts. */
  async commit(points: CommitPoint[], consumer: EngineConsumer): Promise<void> {
    await this.producer.commit(points, consumer);
    this.commits++;
    this.abortsInARow = 0;
    await this.producer.begin();
    this.release();
  }

  /**
   * Aborts the open transaction and opens the next one, after a pause when aborts
   * follow each other (a record that fails each time it is processed). A producer that
   * cannot abort (fenced) is replaced. Beginning is tried again until it succeeds or close().
   */
  async abortAndBegin(events: { fenced(error: Error): void; retrying(error: Error): void }): Promise<void> {
    this.aborts++;
    this.abortsInARow++;
    await this.producer.abort().catch((error: Error) => {
      // the broker ended it first (a newer producer of the id, or its timeout): this producer is done
      events.fenced(error);
      return this.producer.close();
    });
    if (this.abortsInARow > 1) await this.wait(Math.min(MAX_ABORT_PAUSE_MS, FIRST_ABORT_PAUSE_MS * 2 ** (this.abortsInARow - 2)));
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.producer.begin();
        this.release();
        return;
      } catch (error) {
        events.retrying(error as Error);
        await this.producer.close();
        await this.wait(Math.min(MAX_ABORT_PAUSE_MS, 1000 * 2 ** attempt));
      }
    }
  }

  /** Aborts what is open and disconnects; emission stays held until start(). */
  async close(): Promise<void> {
    this.closed = true;
    this.hold();
    this.endPause?.();
    await this.producer.close();
  }

  private async wait(ms: number): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.endPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.endPause = undefined;
  }
}
