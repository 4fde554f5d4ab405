import { ProducerStoppedError } from "../produce-errors";

/**
 * A transaction call the broker or the client refused. Whatever the cause, the
 * transaction is aborted and its records processed again; a producer that cannot even
 * abort (fenced: a newer producer of its id, or the transaction's timeout, came first)
 * is replaced.
 */
export class TransactionError extends Error {
  constructor(message: string) {
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
