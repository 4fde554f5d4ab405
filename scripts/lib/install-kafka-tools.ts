import * as fs from "node:fs";
import * as path from "node:path";
import { KAFKA_HOME, step } from "./project";

/** Where setup puts the wrappers: `.kafka/bin/kafka-topics --bootstrap-server 127.0.0.1:9092 --list`. */
export const KAFKA_BIN = path.join(KAFKA_HOME, "bin");

/**
 * Apache Kafka's command-line tools a user reaches for, named as Kafka's own scripts
 * are (without `.sh`), with the class each runs from the jars in .kafka/libs.
 */
export const KAFKA_TOOLS: Record<string, string> = {
  "kafka-topics": "org.apache.kafka.tools.TopicCommand",
  "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
  "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
  "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
  "kafka-configs": "kafka.admin.ConfigCommand",
};

/** A shell script that runs one tool; it finds the jars beside its own folder, wherever the checkout is. */
function wrapper(name: string, mainClass: string): string {
  return [
    "#!/bin/sh",
    `# Apache Kafka's ${name}, run from the jars in .kafka/libs (written by \`npm run setup\`).`,
    'libs="$(dirname "$(readlink -f "$0")")/../libs"',
    // the jars' logging binding prints at INFO by default: a tool's output would drown in it
    `exec java -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$libs/*" ${mainClass} "$@"`,
    "",
  ].join("\n");
}

/** Writes the wrappers into .kafka/bin, replacing any that differ. */
export function installKafkaTools(): void {
  fs.mkdirSync(KAFKA_BIN, { recursive: true });
  let written = 0;
  for (const [name, mainClass] of Object.entries(KAFKA_TOOLS)) {
    const file = path.join(KAFKA_BIN, name);
    const script = wrapper(name, mainClass);
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === script) continue;
    fs.writeFileSync(file, script, { mode: 0o755 });
    fs.chmodSync(file, 0o755); // writeFileSync's mode applies only to a new file
    written++;
  }
  step(`Kafka command-line tools in .kafka/bin: ${Object.keys(KAFKA_TOOLS).join(", ")}${written > 0 ? ` (${written} written)` : ""}`);
}
