import { ProducerStoppedError } from "../produce-errors";

/**
 * Why a transaction could not commit, and what it takes to go on:
 * - abort: the transaction is spoiled (a record it holds failed): abort it and process its records again;
 * - fenced: a newer producer of the same transactional id, or a newer member of the group,
 *   took over; this producer can do nothing more: make a new one (and a new consumer).
 */
export class TransactionError extends Error {
  constructor(
    message: string,
    readonly kind: "abort" | "fenced",
  ) {
    super(message);
    this.name = "TransactionError";
  }
}

/** A send of a transaction that was aborted: its record is read and processed again, nothing to report. */
export class TransactionAbortedError extends ProducerStoppedError {
  constructor() {
    super();
    this.message = "the transaction was aborted before the record was written; it is processed again";
    this.name = "TransactionAbortedError";
  }
}
