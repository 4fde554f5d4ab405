import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { KAFKA_HOME, KAFKA_LIBS, ROOT, run, step } from "./project";
import { pomDependencies } from "./maven";
import { replaceFolder } from "./replace-folder";

const POM = path.join(ROOT, "scripts", "kafka", "pom.xml");
const STAMP_NAME = ".pom-sha256";

/**
 * Fetches the broker's and the command-line tools' jars from Maven Central into
 * .kafka/libs, unless the same pom already did. They are fetched into a folder of their
 * own that then takes the place of the old one.
 */
export async function installKafka(): Promise<void> {
  const pom = fs.readFileSync(POM, "utf8");
  const pomHash = crypto.createHash("sha256").update(pom).digest("hex");
  const stamp = path.join(KAFKA_LIBS, STAMP_NAME);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === pomHash) {
    step("Apache Kafka jars: present");
    return;
  }
  step(`Apache Kafka jars: fetching ${pomDependencies(pom).join(", ")} and what they depend on from Maven Central into .kafka/libs (first time: a minute)`);
  fs.mkdirSync(KAFKA_HOME, { recursive: true });
  const fresh = fs.mkdtempSync(path.join(KAFKA_HOME, "libs-fetching-"));
  fs.chmodSync(fresh, 0o755); // mkdtemp makes it private; the jars are not
  try {
    await run("mvn", ["-q", "-B", "-f", POM, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${fresh}`]);
    fs.writeFileSync(path.join(fresh, STAMP_NAME), pomHash);
    replaceFolder(KAFKA_LIBS, fresh);
  } catch (error) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw error;
  }
}
