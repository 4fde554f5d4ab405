import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";
import { startScratchKafka, type EmbeddedKafka } from "./lib/embedded-kafka";
import { KAFKA_HOME, ROOT, run, step } from "./lib/project";
import { setup } from "./setup";

const TEST_ROOT = path.join(ROOT, "dist", "test");

function specFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? specFiles(path.join(dir, entry.name)) : entry.name.endsWith(".spec.js") ? [path.join(dir, entry.name)] : []))
    .sort();
}

/**
 * `npm test`: setup, lint (the type check ran in the build), then every spec against a
 * broker of its own. Arguments narrow the run to spec files whose path contains them.
 */
export async function main(args: string[]): Promise<number> {
  await setup();
  step("lint (eslint)");
  await run(process.execPath, [path.join(ROOT, "node_modules", "eslint", "bin", "eslint.js"), "--max-warnings=0", "."]);

  const files = specFiles(TEST_ROOT).filter((file) => args.length === 0 || args.some((arg) => file.includes(arg)));
  let kafka: EmbeddedKafka | undefined;
  // the browser specs feed the example flows they deploy from a broker too
  const needsKafka = files.some((file) => ["integration", "browser"].some((dir) => file.includes(`${path.sep}${dir}${path.sep}`)));
  if (!process.env.TEST_KAFKA_BROKERS && needsKafka) {
    step("starting a Kafka broker for the integration and browser tests");
    kafka = await startScratchKafka(path.join(KAFKA_HOME, `test-${process.pid}`));
    process.env.TEST_KAFKA_BROKERS = kafka.brokers;
    // for specs that read what the broker stored (its log segments)
    process.env.TEST_KAFKA_DATA_DIR = kafka.dataDir;
    step(`Kafka broker on ${kafka.brokers}`);
  }
  try {
    const mocha = new Mocha({ timeout: 120_000, reporter: "spec" });
    files.forEach((file) => mocha.addFile(file));
    const stats = await new Promise<Mocha.Stats>((resolve) => {
      const runner = mocha.run(() => resolve(runner.stats ?? ({ passes: 0, failures: 1, pending: 0 } as Mocha.Stats)));
    });
    const pending = stats.pending > 0 ? `, ${stats.pending} skipped` : "";
    console.log(`\n${stats.passes} passed, ${stats.failures} failed${pending}`);
    return stats.failures > 0 || stats.passes === 0 ? 1 : 0;
  } finally {
    await kafka?.stop();
  }
}
