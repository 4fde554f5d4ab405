import { spawn } from "node:child_process";
import { onPath } from "../../scripts/lib/apt";
import { testBrokers } from "./kafka";

/**
 * Runs kcat (librdkafka's command-line client: a Kafka peer independent of kafkajs)
 * against the test broker, with `input` on its stdin; resolves with its stdout as bytes.
 */
export function kcat(args: string[], input: Buffer | string = ""): Promise<Buffer> {
  if (!onPath("kcat")) return Promise.reject(new Error("kcat is not on PATH: `npm run setup` installs it (apt-get install kcat, as root)"));
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", ["-b", testBrokers(), ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(stdout));
      else reject(new Error(`kcat ${args.join(" ")} exited with ${code}: ${Buffer.concat(stderr).toString()}`));
    });
    child.stdin.end(input);
  });
}

/** One record as kcat read it: key and value byte for byte (null when absent), headers as kcat prints them. */
export interface KcatRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** `name=value` pairs joined by commas, values raw. */
  headers: Buffer;
}

/**
 * Reads the record at one offset with kcat. Key and value lengths come first in the
 * output so that binary keys and values (any byte, delimiters included) split exactly.
 */
export async function kcatRecordAt(topic: string, partition: number, offset: string): Promise<KcatRecord> {
  const out = await kcat(["-C", "-t", topic, "-p", String(partition), "-o", offset, "-c", "1", "-q", "-f", "%K:%S:%k%s%h"]);
  const first = out.indexOf(":");
  const second = out.indexOf(":", first + 1);
  const keyLength = Number(out.subarray(0, first).toString());
  const valueLength = Number(out.subarray(first + 1, second).toString());
  // kcat prints -1 for a null key or value, and nothing of it
  let at = second + 1;
  const key = keyLength < 0 ? null : out.subarray(at, (at += keyLength));
  const value = valueLength < 0 ? null : out.subarray(at, (at += valueLength));
  return { key, value, headers: out.subarray(at) };
}
