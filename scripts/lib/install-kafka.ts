import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { KAFKA_HOME, KAFKA_LIBS, ROOT, run, step } from "./project";

const POM = path.join(ROOT, "scripts", "kafka", "pom.xml");
const STAMP = path.join(KAFKA_LIBS, ".pom-sha256");

/** Fetches the broker's jars from Maven Central into .kafka/libs, unless the same pom already did. */
export async function installKafka(): Promise<void> {
  const pomHash = crypto.createHash("sha256").update(fs.readFileSync(POM)).digest("hex");
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8") === pomHash) {
    step("Apache Kafka jars: present");
    return;
  }
  step("Apache Kafka jars: fetching from Maven Central (first time: a minute)");
  fs.rmSync(KAFKA_LIBS, { recursive: true, force: true });
  fs.mkdirSync(KAFKA_HOME, { recursive: true });
  await run("mvn", ["-q", "-B", "-f", POM, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${KAFKA_LIBS}`]);
  fs.writeFileSync(STAMP, pomHash);
}
