import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { H2O_HOME, H2O_LIBS, ROOT, run, step } from "./project";
import { pomDependencies } from "./maven";
import { replaceFolder } from "./replace-folder";

const POM = path.join(ROOT, "scripts", "h2o", "pom.xml");
const BATCH_SCORER = path.join(ROOT, "src", "python", "handlers", "h2o", "BatchScorer.java");
const BATCH_SCORER_JAR = "h2o-batch-scorer.jar";
const STAMP_NAME = ".inputs-sha256";

/**
 * Fetches h2o-genmodel (H2O's MOJO scoring library) and its dependencies from Maven
 * Central into .h2o/libs, and compiles the h2o handler's BatchScorer against them into a
 * jar beside them, unless the same pom and source already did. Everything is made in a
 * folder of its own that then takes the place of the old one.
 */
export async function installH2o(): Promise<void> {
  const pom = fs.readFileSync(POM, "utf8");
  const inputsHash = crypto.createHash("sha256").update(pom).update(fs.readFileSync(BATCH_SCORER)).digest("hex");
  const stamp = path.join(H2O_LIBS, STAMP_NAME);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === inputsHash) {
    step("H2O MOJO scoring jars: present");
    return;
  }
  step(
    `H2O MOJO scoring jars: fetching ${pomDependencies(pom).join(", ")} and what it depends on from Maven Central into .h2o/libs, ` +
      `and compiling ${path.relative(ROOT, BATCH_SCORER)} into .h2o/libs/${BATCH_SCORER_JAR}`,
  );
  fs.mkdirSync(H2O_HOME, { recursive: true });
  const fresh = fs.mkdtempSync(path.join(H2O_HOME, "libs-fetching-"));
  fs.chmodSync(fresh, 0o755); // mkdtemp makes it private; the jars are not
  const classes = fs.mkdtempSync(path.join(H2O_HOME, "classes-"));
  try {
    await run("mvn", ["-q", "-B", "-f", POM, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${fresh}`]);
    // Java 8 class files: the worker's JVM is whichever JPype finds, not necessarily this javac's
    await run("javac", ["--release", "8", "-cp", path.join(fresh, "*"), "-d", classes, BATCH_SCORER]);
    await run("jar", ["--create", "--file", path.join(fresh, BATCH_SCORER_JAR), "-C", classes, "."]);
    fs.writeFileSync(path.join(fresh, STAMP_NAME), inputsHash);
    replaceFolder(H2O_LIBS, fresh);
  } catch (error) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw error;
  } finally {
    fs.rmSync(classes, { recursive: true, force: true });
  }
}
