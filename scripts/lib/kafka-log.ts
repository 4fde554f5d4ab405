import type { logCreator } from "kafkajs";
import { isTransientBrokerAnswer } from "../../src/kafka/engines/kafkajs/log";

/**
 * How the scripts' own Kafka clients (the demo feed and monitor, the benchmark's) log:
 * one line per error, with the broker's answer, under a prefix; nothing for a broker's
 * passing answers (a group coordinator still loading after a start), which the client
 * retries; nothing at all while `quiet()` says so (everything is stopping).
 */
export function scriptKafkaLog(prefix: string, quiet: () => boolean = () => false): logCreator {
  return () =>
    ({ log }) => {
      const text = `${log.message}${log.error ? `: ${String(log.error)}` : ""}`;
      if (!quiet() && !isTransientBrokerAnswer(text)) console.error(`${prefix} kafka: ${text}`);
    };
}
