import * as path from "node:path";
import Mocha from "mocha";
import { startScratchKafka, type EmbeddedKafka } from "./embedded-kafka";
import { KAFKA_HOME, step } from "./project";

export interface SpecCounts {
  passes: number;
  failures: number;
  pending: number;
}

/**
 * Runs spec files with mocha, in this process, against a Kafka broker of their own when
 * any of them needs one (unless TEST_KAFKA_BROKERS names one); `label` names the broker
 * in the output.
 */
export async function runSpecs(files: string[], label: string): Promise<SpecCounts> {
  let kafka: EmbeddedKafka | undefined;
  // the browser specs feed the example flows they deploy from a broker too
  const needsKafka = files.some((file) => ["integration", "browser"].some((dir) => file.includes(`${path.sep}${dir}${path.sep}`)));
  if (!process.env.TEST_KAFKA_BROKERS && needsKafka) {
    step(`starting a Kafka broker for ${label}`);
    kafka = await startScratchKafka(path.join(KAFKA_HOME, `test-${process.pid}`));
    process.env.TEST_KAFKA_BROKERS = kafka.brokers;
    // for specs that read what the broker stored (its log segments)
    process.env.TEST_KAFKA_DATA_DIR = kafka.dataDir;
    step(`Kafka broker for ${label} on ${kafka.brokers}`);
  }
  try {
    const mocha = new Mocha({ timeout: 120_000, reporter: "spec" });
    files.forEach((file) => mocha.addFile(file));
    const stats = await new Promise<Mocha.Stats>((resolve) => {
      const runner = mocha.run(() => resolve(runner.stats ?? ({ passes: 0, failures: 1, pending: 0 } as Mocha.Stats)));
    });
    return { passes: stats.passes, failures: stats.failures, pending: stats.pending };
  } finally {
    await kafka?.stop();
  }
}
