import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pomDependencies } from "./maven";
import { ROOT, SCHEMA_REGISTRY_HOME, run, step } from "./project";
import { replaceFolder } from "./replace-folder";

const POM = path.join(ROOT, "scripts", "schema-registry", "pom.xml");
const STAMP_NAME = ".pom-sha256";
/** The unpacked Quarkus app: quarkus-run.jar and its lib/, app/ and quarkus/ folders. */
export const SCHEMA_REGISTRY_APP = path.join(SCHEMA_REGISTRY_HOME, "app");
/** Apicurio Registry 3 is compiled for Java 21: an older JVM fails with UnsupportedClassVersionError. */
export const REGISTRY_JAVA_MAJOR = 21;
const JVM_FOLDER = "/usr/lib/jvm";

export interface Java {
  /** The java executable. */
  java: string;
  home: string;
  /** As its `release` file gives it, e.g. "25.0.3". */
  version: string;
}

function javaAt(home: string): Java | undefined {
  const java = path.join(home, "bin", "java");
  try {
    fs.accessSync(java, fs.constants.X_OK);
    const version = /^JAVA_VERSION="([^"]+)"/m.exec(fs.readFileSync(path.join(home, "release"), "utf8"))?.[1];
    return version ? { java, home, version } : undefined;
  } catch {
    return undefined;
  }
}

/** 17 for "17.0.15", 8 for "1.8.0_412". */
function majorOf(version: string): number {
  const [first, second] = version.split(/[._+-]/).map(Number);
  return first === 1 ? second : first;
}

/** The installation that the `java` on PATH belongs to (/usr/bin/java is a chain of links into it). */
function javaOnPath(): string | undefined {
  for (const folder of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    try {
      return path.dirname(path.dirname(fs.realpathSync(path.join(folder, "java"))));
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * A Java that can run the registry, without starting one (each candidate's `release`
 * file gives its version): JAVA_HOME's, else the one on PATH, else the newest in
 * /usr/lib/jvm, whichever first is 21 or newer. The default java here is 17, which
 * is why the registry does not simply run `java`.
 */
export function findRegistryJava(): Java | undefined {
  let installed: string[] = [];
  try {
    installed = fs.readdirSync(JVM_FOLDER).map((entry) => path.join(JVM_FOLDER, entry));
  } catch {
    // no such folder
  }
  const byNewest = installed
    .map(javaAt)
    .filter((java): java is Java => java !== undefined)
    .sort((a, b) => majorOf(b.version) - majorOf(a.version));
  const preferred = [process.env.JAVA_HOME, javaOnPath()].filter((home): home is string => Boolean(home)).map(javaAt);
  return [...preferred, ...byNewest].find((java) => java !== undefined && majorOf(java.version) >= REGISTRY_JAVA_MAJOR);
}

/** What to do when findRegistryJava() finds nothing. */
export const NO_REGISTRY_JAVA =
  `the Schema Registry (Apicurio Registry) needs Java ${REGISTRY_JAVA_MAJOR} or newer, and none was found ` +
  `(JAVA_HOME, the java on PATH, ${JVM_FOLDER}/*): install a JDK or JRE ${REGISTRY_JAVA_MAJOR}+ into ${JVM_FOLDER} ` +
  `or point JAVA_HOME at one. Debian 12 packages none (openjdk-17 is its newest): take an Eclipse Temurin 21 or 25 build`;

function describeJava(java: Java | undefined): string {
  return java ? `runs on Java ${java.version} (${java.home})` : `but cannot run: ${NO_REGISTRY_JAVA}`;
}

/**
 * Fetches Apicurio Registry, a Confluent-compatible Schema Registry served by Maven
 * Central as a ready-to-run Quarkus app (a tar.gz), and unpacks it into
 * .schema-registry/app, unless the same pom already did. It is unpacked into a folder
 * of its own that then takes the place of the old one. A missing Java 21 is reported
 * here but fails only the start (embedded-schema-registry.ts), not the rest of setup.
 */
export async function installSchemaRegistry(): Promise<void> {
  const pom = fs.readFileSync(POM, "utf8");
  const pomHash = crypto.createHash("sha256").update(pom).digest("hex");
  const java = findRegistryJava();
  const stamp = path.join(SCHEMA_REGISTRY_APP, STAMP_NAME);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === pomHash) {
    step(`Schema Registry (Apicurio Registry): present; ${describeJava(java)}`);
    return;
  }
  const [app] = pomDependencies(pom);
  step(`Schema Registry: fetching ${app} (the ready-to-run app, a 160 MB tar.gz) from Maven Central and unpacking it into .schema-registry/app`);
  fs.mkdirSync(SCHEMA_REGISTRY_HOME, { recursive: true });
  const download = fs.mkdtempSync(path.join(SCHEMA_REGISTRY_HOME, "download-"));
  const fresh = fs.mkdtempSync(path.join(SCHEMA_REGISTRY_HOME, "app-fetching-"));
  fs.chmodSync(fresh, 0o755); // mkdtemp makes it private; the app is not
  try {
    await run("mvn", ["-q", "-B", "-f", POM, "dependency:copy-dependencies", `-DoutputDirectory=${download}`]);
    for (const archive of fs.readdirSync(download).filter((name) => name.endsWith(".tar.gz"))) {
      // as root, tar would keep the archive's owner (uid 1001)
      await run("tar", ["-xzf", path.join(download, archive), "-C", fresh, "--no-same-owner"]);
    }
    if (!fs.existsSync(path.join(fresh, "quarkus-run.jar"))) throw new Error(`${app} has no quarkus-run.jar at its top`);
    fs.writeFileSync(path.join(fresh, STAMP_NAME), pomHash);
    replaceFolder(SCHEMA_REGISTRY_APP, fresh);
  } catch (error) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw error;
  } finally {
    fs.rmSync(download, { recursive: true, force: true });
  }
  step(`Schema Registry (Apicurio Registry): unpacked; ${describeJava(java)}`);
}
