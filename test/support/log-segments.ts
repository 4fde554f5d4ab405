import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { KAFKA_LIBS } from "../../scripts/lib/project";

/** The test broker's log directory, from the server.properties in the data dir `npm test` gave it. */
function logDir(): string {
  const dataDir = process.env.TEST_KAFKA_DATA_DIR;
  if (!dataDir) throw new Error("TEST_KAFKA_DATA_DIR is not set: reading the broker's log segments needs the broker `npm test` starts");
  const properties = fs.readFileSync(path.join(dataDir, "server.properties"), "utf8");
  const logDirs = /^log\.dirs=(.+)$/m.exec(properties)?.[1];
  if (!logDirs) throw new Error(`no log.dirs in ${dataDir}/server.properties`);
  return logDirs.split(",")[0];
}

/**
 * The compression codec of each record batch the test broker stored in partition 0 of
 * each topic, oldest first, as Kafka's own DumpLogSegments reads the segment files.
 */
export async function storedCodecs(topics: string[]): Promise<Map<string, string[]>> {
  const segmentsOf = new Map(
    topics.map((topic) => {
      const dir = path.join(logDir(), `${topic}-0`);
      return [topic, fs.readdirSync(dir).filter((file) => file.endsWith(".log")).sort().map((file) => path.join(dir, file))];
    }),
  );
  const files = [...segmentsOf.values()].flat();
  const out = await new Promise<string>((resolve, reject) => {
    execFile("java", ["-cp", path.join(KAFKA_LIBS, "*"), "kafka.tools.DumpLogSegments", "--files", files.join(",")], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`DumpLogSegments failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  // "Dumping <file>" heads each file's part; each batch is a line with "compresscodec: <name>"
  const codecsOf = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of out.split("\n")) {
    const dumping = /^Dumping (.+)$/.exec(line);
    if (dumping) {
      current = [];
      codecsOf.set(dumping[1].trim(), current);
      continue;
    }
    const codec = /compresscodec: (\S+)/.exec(line);
    if (codec && current) current.push(codec[1].toLowerCase());
  }
  return new Map(topics.map((topic) => [topic, (segmentsOf.get(topic) ?? []).flatMap((file) => codecsOf.get(file) ?? [])]));
}
