import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { aptInstall, whyNotInstalled } from "./apt";
import { ROOT, run, step } from "./project";

const CLIENT = "@confluentinc/kafka-javascript";
/** What the client links against when built with CKJS_LINKING=dynamic (the rest is on Debian by default). */
const BUILD_PACKAGES = ["libzstd-dev", "libcurl4-openssl-dev", "libsasl2-dev", "liblz4-dev"];

/** The librdkafka version the client's binary was built with, or undefined when it does not load. */
function loadedVersion(): string | undefined {
  const probe = spawnSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(CLIENT)}).librdkafkaVersion)`], { cwd: ROOT, encoding: "utf8" });
  return probe.status === 0 ? probe.stdout : undefined;
}

/**
 * The librdkafka engine: Confluent's client, an optional dependency built from source
 * against the system's libraries (its prebuilt binary and the sources of its default
 * build come from hosts this project cannot count on). `npm ci` builds it when those
 * libraries are there; otherwise this installs them and builds it. Only the librdkafka
 * engine needs it, so a failure is reported, not fatal: the kafkajs engine runs without.
 */
export async function installLibrdkafka(): Promise<void> {
  const present = loadedVersion();
  if (present) {
    step(`librdkafka engine (${CLIENT}, librdkafka ${present}): present`);
    return;
  }
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { optionalDependencies: Record<string, string> }).optionalDependencies[CLIENT];
  step(`librdkafka engine: installing Debian's ${BUILD_PACKAGES.join(", ")}, then building ${CLIENT} ${version} from source (first time: a minute or two)`);
  try {
    await aptInstall(BUILD_PACKAGES);
    await run("npm", ["install", "--no-save", "--no-audit", "--no-fund", `${CLIENT}@${version}`], { env: { ...process.env, CKJS_LINKING: "dynamic" } });
  } catch (error) {
    step(`librdkafka engine: could not be built${whyNotInstalled(error as Error)}; nodes set to engine "auto" use kafkajs`);
    return;
  }
  const built = loadedVersion();
  step(built ? `librdkafka engine: built (librdkafka ${built})` : `librdkafka engine: built, but it does not load; nodes set to engine "auto" use kafkajs`);
}
