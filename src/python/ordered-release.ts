/**
 * Lets results leave in the order their inputs arrived, although batches may finish
 * out of order (several workers, a retried batch): each input takes a ticket, and a
 * finished ticket's action runs only after every earlier ticket's has.
 */
export class OrderedRelease {
  private nextTicket = 0;
  private nextToRelease = 0;
  private readonly finished = new Map<number, () => void>();

  take(): number {
    return this.nextTicket++;
  }

  finish(ticket: number, action: () => void): void {
    this.finished.set(ticket, action);
    let next = this.finished.get(this.nextToRelease);
    while (next) {
      this.finished.delete(this.nextToRelease);
      this.nextToRelease++;
      next();
      next = this.finished.get(this.nextToRelease);
    }
  }

  /** Inputs whose results wait for an earlier one. */
  get held(): number {
    return this.finished.size;
  }
}
