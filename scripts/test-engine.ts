import { runSpecs } from "./lib/spec-run";

/**
 * Runs the Kafka specs given on the command line on the engine TEST_KAFKA_ENGINE names
 * (and the exactly-once specs, which choose librdkafka themselves), with a broker of
 * their own: `npm test` starts it as a process beside its own run, so that the two
 * engines are tested at the same time. Prints its counts as the last line.
 */
async function main(files: string[]): Promise<void> {
  const counts = await runSpecs(files, `the ${process.env.TEST_KAFKA_ENGINE} engine's Kafka specs and the exactly-once specs`);
  console.log(`\n${RESULT_PREFIX}${JSON.stringify(counts)}`);
  process.exit(counts.failures > 0 ? 1 : 0);
}

export const RESULT_PREFIX = "spec counts: ";

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  });
}
