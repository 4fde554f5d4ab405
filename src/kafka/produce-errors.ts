/**
 * Which produce failures sending again cannot cure. kafkajs retries what it counts as
 * retriable before it gives up, so a failure that reaches us is either one the broker
 * will refuse every time (below), or a broker that stayed out of reach (retried later).
 */
const PERMANENT_REFUSALS: Record<string, string> = {
  MESSAGE_TOO_LARGE: "the record is larger than the topic accepts (max.message.bytes)",
  RECORD_LIST_TOO_LARGE: "the record is larger than the topic accepts (max.message.bytes)",
  // retried by kafkajs for about a minute first: a topic being created appears well within that
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

interface ErrorChain {
  type?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

/**
 * Kafka's name for a refusal that sending again cannot cure, or undefined for a failure
 * worth retrying. kafkajs wraps the broker's error (KafkaJSNonRetriableError,
 * KafkaJSNumberOfRetriesExceeded) with the original as `cause`.
 */
export function permanentRefusal(error: unknown): string | undefined {
  for (let link = error as ErrorChain | undefined, depth = 0; link && depth < 8; link = link.cause as ErrorChain | undefined, depth++) {
    if (typeof link.type === "string" && link.type in PERMANENT_REFUSALS) return link.type;
    // kafkajs checks a topic name itself before sending
    if (link.name === "KafkaJSNonRetriableError" && link.message === "Invalid topic") return "INVALID_TOPIC_EXCEPTION";
  }
  return undefined;
}

/** What a permanent refusal means, in words. */
export function refusalReason(code: string): string {
  return PERMANENT_REFUSALS[code] ?? code;
}
