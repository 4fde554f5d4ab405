import type { NativeError } from "./native";

/**
 * librdkafka's error codes (its rd_kafka_resp_err_t: broker errors keep Kafka's numbers,
 * the client's own are negative) for refusals that sending again cannot cure, by Kafka's
 * name for them (see produce-errors.ts).
 */
const PERMANENT: Record<number, string> = {
  10: "MESSAGE_TOO_LARGE", // ERR_MSG_SIZE_TOO_LARGE, also the client's own limit
  18: "RECORD_LIST_TOO_LARGE",
  3: "UNKNOWN_TOPIC_OR_PARTITION", // after the client's retries
  [-188]: "UNKNOWN_TOPIC_OR_PARTITION", // ERR__UNKNOWN_TOPIC
  [-190]: "UNKNOWN_TOPIC_OR_PARTITION", // ERR__UNKNOWN_PARTITION
  29: "TOPIC_AUTHORIZATION_FAILED",
  31: "CLUSTER_AUTHORIZATION_FAILED",
  17: "INVALID_TOPIC_EXCEPTION",
  87: "INVALID_RECORD",
  44: "POLICY_VIOLATION",
  32: "INVALID_TIMESTAMP",
  43: "UNSUPPORTED_FOR_MESSAGE_FORMAT",
  76: "UNSUPPORTED_COMPRESSION_TYPE",
  21: "INVALID_REQUIRED_ACKS",
};

/** Kafka's name for a refusal that sending again cannot cure, or undefined for a failure worth retrying. */
export function permanentRefusal(error: NativeError): string | undefined {
  return PERMANENT[error.code];
}
