/**
 * How a record emitted by kafka-in is declared done. The msg carries a plain handle
 * (it survives Node-RED's message cloning and JSON); the kafka-in node that emitted it
 * registers a settler under the handle's source id. Settling twice, or settling a
 * record whose consumer has since restarted, does nothing.
 */
export interface SettlementHandle {
  source: string;
  topic: string;
  partition: number;
  /** The record's offset; for a batch msg, its first record's. */
  offset: string;
  /** A batch msg: the offsets of the records it carries, in the order of its payload (see record-batches.ts). */
  offsets?: string[];
  /** Read by an exactly-once consumer: its results are written in that consumer's transaction. */
  transactional?: boolean;
}

/**
 * What happened to the record:
 * - processed: a kafka-out wrote its result, or a kafka-commit node declared it done;
 * - failed: it failed and was reported to Catch; it goes to the dead-letter topic when
 *   kafka-in has one, and is settled either way;
 * - undelivered: a kafka-out could not write its result; it goes to the dead-letter
 *   topic when there is one, else stays unsettled, to be read again.
 */
export type SettleOutcome = "processed" | "failed" | "undelivered";

/** Why a record failed, for the dead-letter headers. */
export interface Failure {
  error: string;
  /** The id of the node that reported it. */
  node: string;
}

export type Settler = (handle: SettlementHandle, outcome: SettleOutcome, failure?: Failure) => void;

const settlers = new Map<string, Settler>();

/** Returns the function that removes the registration. */
export function registerSettler(source: string, settler: Settler): () => void {
  settlers.set(source, settler);
  return () => {
    if (settlers.get(source) === settler) settlers.delete(source);
  };
}

export function settlementHandle(msg: unknown): SettlementHandle | undefined {
  const handle = (msg as { kafka?: Partial<SettlementHandle> } | undefined)?.kafka;
  if (!handle || typeof handle.source !== "string" || typeof handle.offset !== "string") return undefined;
  return handle as SettlementHandle;
}

/**
 * Settles the record a msg came from (every record of a batch msg), if it came from a
 * kafka-in that is still running. Returns false when the msg carries no record (it did
 * not come from a kafka-in).
 */
export function settleMessage(msg: unknown, outcome: SettleOutcome, failure?: Failure): boolean {
  const handle = settlementHandle(msg);
  if (!handle) return false;
  const settler = settlers.get(handle.source);
  if (!settler) return true;
  if (!handle.offsets) {
    settler(handle, outcome, failure);
    return true;
  }
  const { source, topic, partition, transactional } = handle;
  for (const offset of handle.offsets) settler({ source, topic, partition, offset, transactional }, outcome, failure);
  return true;
}
