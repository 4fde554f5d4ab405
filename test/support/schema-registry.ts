import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/package-paths";
import { PYTHON } from "./python";

const PEER = path.join(PACKAGE_ROOT, "test", "support", "registry_peer.py");
const PROTO_DIR = path.join(PACKAGE_ROOT, "test", "support", "protobuf");

/**
 * Confluent's Python serializers against the same registry: values in, hex records out,
 * or the other way. Asynchronous: the registry's log comes through this process, which
 * must keep reading it while Python waits for the registry.
 */
export function peer(action: "serialize" | "deserialize", url: string, topic: string, kind: "avro" | "json" | "protobuf", input: unknown, schema?: object, field: "value" | "key" = "value"): Promise<unknown[]> {
  const args = [PEER, action, url, topic, kind];
  if (kind === "protobuf") {
    args.push(PROTO_DIR, "order.proto", "Order");
  } else if (schema) {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "registry-peer-")), "schema.json");
    fs.writeFileSync(file, JSON.stringify(schema));
    args.push(file);
  }
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, args, { timeout: 60_000, env: { ...process.env, PEER_FIELD: field } }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as unknown[])));
    child.stdin?.end(JSON.stringify(input));
  });
}

export async function pythonWrites(url: string, topic: string, kind: "avro" | "json" | "protobuf", values: unknown[], schema: object, field: "value" | "key" = "value"): Promise<Buffer[]> {
  return ((await peer("serialize", url, topic, kind, values, schema, field)) as string[]).map((hex) => Buffer.from(hex, "hex"));
}
