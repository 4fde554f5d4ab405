import { spawn } from "node:child_process";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { testBrokers } from "./kafka";
import { PYTHON } from "./python";

/** A record as Confluent's Python client writes or reads it: bytes, or null where there are none. */
export interface PeerRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** In order, as written; a name may repeat. */
  headers: [string, Buffer | null][];
}

const PEER = path.join(PACKAGE_ROOT, "test", "support", "confluent_peer.py");

interface WireRecord {
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

const toWire = (bytes: Buffer | null): string | null => (bytes === null ? null : bytes.toString("base64"));
const fromWire = (text: string | null): Buffer | null => (text === null ? null : Buffer.from(text, "base64"));

/** Runs confluent_peer.py in the project's Python against the test broker; resolves with its stdout. */
function runPeer(args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [PEER, args[0], testBrokers(), ...args.slice(1)], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`confluent_peer.py ${args.join(" ")} exited with ${code}: ${stderr}`));
    });
    child.stdin.end(input);
  });
}

/** Writes the records to partition 0 of the topic with Confluent's Python client (librdkafka), `compression.type` set. */
export async function confluentProduce(topic: string, compression: string, records: PeerRecord[]): Promise<void> {
  const lines = records.map((record) => JSON.stringify({ key: toWire(record.key), value: toWire(record.value), headers: record.headers.map(([name, value]) => [name, toWire(value)]) }));
  await runPeer(["produce", topic, compression], lines.map((line) => `${line}\n`).join(""));
}

/** The first `count` records of partition 0 of the topic, read with Confluent's Python client, with their offsets. */
export async function confluentConsume(topic: string, count: number): Promise<(PeerRecord & { offset: string })[]> {
  const out = await runPeer(["consume", topic, String(count)], "");
  return out
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as WireRecord & { offset: number })
    .map((record) => ({
      offset: String(record.offset),
      key: fromWire(record.key),
      value: fromWire(record.value),
      headers: record.headers.map(([name, value]): [string, Buffer | null] => [name, fromWire(value)]),
    }));
}
