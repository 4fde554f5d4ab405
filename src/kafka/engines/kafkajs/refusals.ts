import { isPermanentRefusal } from "../../produce-errors";

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
    if (typeof link.type === "string" && isPermanentRefusal(link.type)) return link.type;
    // kafkajs checks a topic name itself before sending
    if (link.name === "KafkaJSNonRetriableError" && link.message === "Invalid topic") return "INVALID_TOPIC_EXCEPTION";
  }
  return undefined;
}
