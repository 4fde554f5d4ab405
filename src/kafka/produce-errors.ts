/**
 * The produce failures sending again cannot cure, by Kafka's name for them (each engine
 * maps its client's errors to these). A client retries what may pass before it gives
 * up, so a failure that reaches us is either one of these, or a broker that stayed out
 * of reach (retried later).
 */
const PERMANENT_REFUSALS: Record<string, string> = {
  MESSAGE_TOO_LARGE: "the record is larger than the topic accepts (max.message.bytes)",
  RECORD_LIST_TOO_LARGE: "the record is larger than the topic accepts (max.message.bytes)",
  // retried by the client first: a topic being created appears well within that
  UNKNOWN_TOPIC_OR_PARTITION: "the topic does not exist and the broker does not create topics on first use",
  TOPIC_AUTHORIZATION_FAILED: "not authorized to write to the topic",
  CLUSTER_AUTHORIZATION_FAILED: "not authorized by the cluster",
  INVALID_TOPIC_EXCEPTION: "the topic name is not valid",
  INVALID_RECORD: "the broker refused the record as invalid",
  POLICY_VIOLATION: "the record breaks a policy of the topic",
  INVALID_TIMESTAMP: "the record's timestamp is outside what the topic accepts",
  UNSUPPORTED_FOR_MESSAGE_FORMAT: "the topic's message format does not support the record",
  UNSUPPORTED_COMPRESSION_TYPE: "the topic does not accept this compression",
  INVALID_REQUIRED_ACKS: "the broker does not accept this acks setting",
};

/** The broker refused a record for good: writing it again would fail again. */
export class ProduceRefusedError extends Error {
  constructor(
    readonly topic: string,
    /** Kafka's name for the refusal, e.g. MESSAGE_TOO_LARGE. */
    readonly code: string,
    readonly reason: string,
  ) {
    super(`${topic}: ${reason} (${code})`);
    this.name = "ProduceRefusedError";
  }
}

/** The producer was stopped (its node closed) before the record was written. */
export class ProducerStoppedError extends Error {
  constructor() {
    super("the producer stopped before the record was written");
    this.name = "ProducerStoppedError";
  }
}

/** Whether Kafka's name for a failure is a refusal for good. */
export function isPermanentRefusal(code: string): boolean {
  return code in PERMANENT_REFUSALS;
}

/** What a permanent refusal means, in words. */
export function refusalReason(code: string): string {
  return PERMANENT_REFUSALS[code] ?? code;
}
