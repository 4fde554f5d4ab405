import { logLevel, type LogEntry } from "kafkajs";
import type { Logger } from "../../engine";

/**
 * What a broker answers for a moment while it starts, creates a topic or moves a
 * partition; kafkajs retries and goes on, so these are logged as info, not warnings.
 */
const TRANSIENT = /coordinator is (not available|loading)|does not host this topic-partition|leadership election|not the leader for that topic-partition/;

/** Whether a kafkajs log line tells of a broker's passing answer, which kafkajs retries: no news for a user. */
export function isTransientBrokerAnswer(text: string): boolean {
  return TRANSIENT.test(text);
}

/** kafkajs's log, into a node's log; what it retries also goes to `problem`, so that a node can say why it is still connecting. */
export function kafkajsLogCreator(log: Logger, problem: (error: string) => void): () => (entry: LogEntry) => void {
  return () =>
    ({ level, log: entry }) => {
      const text = `${entry.message}${entry.error ? `: ${entry.error}` : ""}`;
      const transient = isTransientBrokerAnswer(text);
      // kafkajs logs at ERROR what it then retries (a refused connection, a certificate
      // that fails verification): a node says so while it connects; failures that stick
      // reach the nodes as errors. A broker's passing answers are not worth a word.
      if (level === logLevel.ERROR && !transient) problem(entry.error ? String(entry.error) : rootCause(entry.message));
      if (level <= logLevel.WARN && !transient) log("warn", text);
      else if (level <= logLevel.INFO) log("info", text);
      else log("debug", text);
    };
}

/** kafkajs prefixes causes ("Failed to connect to seed broker, ...: Connection error: <cause>"): the cause is last. */
function rootCause(message: string): string {
  const parts = message.split(": ");
  return parts[parts.length - 1] || message;
}
