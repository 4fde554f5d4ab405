import type { KafkaConnection } from "../connection";
import type { Delivery, OutgoingRecord } from "../engine";
import { settlementHandle } from "../settlement";

/** Where kafka-out writes the results of an exactly-once record: in its consumer's open transaction. */
export interface TransactionSender {
  /** The kafka-in's connection: a transaction spans one cluster. */
  readonly connection: KafkaConnection;
  send(topic: string, record: OutgoingRecord): Promise<Delivery>;
}

const senders = new Map<string, TransactionSender>();

/** Registers the transaction of an exactly-once consumer under its settlement source; returns the function that removes it. */
export function registerTransactionSender(source: string, sender: TransactionSender): () => void {
  senders.set(source, sender);
  return () => {
    if (senders.get(source) === sender) senders.delete(source);
  };
}

/**
 * For a msg of an exactly-once kafka-in: the transaction its results go in, or "aborted"
 * when that transaction was aborted (or its consumer stopped): the record is read and
 * processed again, and this msg must not be written. Undefined for any other msg.
 */
export function transactionOf(msg: unknown): TransactionSender | "aborted" | undefined {
  const handle = settlementHandle(msg);
  if (!handle?.transactional) return undefined;
  return senders.get(handle.source) ?? "aborted";
}
