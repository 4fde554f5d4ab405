import * as fs from "node:fs";
import { Toxiproxy, type Proxy, type Toxic } from "toxiproxy-node-client";
import { freePort } from "../../scripts/lib/embedded-kafka";
import { TOXIPROXY_SERVER } from "../../scripts/lib/install-toxiproxy";
import { spawnTied } from "../../scripts/lib/tied-process";
import { waitFor } from "./python";

/** Toxiproxy's server (built by setup) on a free loopback port, tied to this process, with its client. */
export interface ToxiproxyServer {
  client: Toxiproxy;
  stop(): Promise<void>;
}

export async function startToxiproxy(): Promise<ToxiproxyServer> {
  if (!fs.existsSync(TOXIPROXY_SERVER)) throw new Error(`Toxiproxy is not built (${TOXIPROXY_SERVER}): run \`npm run setup\` with Go on the PATH`);
  const port = await freePort();
  const server = spawnTied(TOXIPROXY_SERVER, ["-host", "127.0.0.1", "-port", String(port)], { stdout: "ignore", stderr: "ignore" });
  const client = new Toxiproxy(`http://127.0.0.1:${port}`);
  await waitFor(
    () =>
      client.getVersion().then(
        () => true,
        () => false,
      ),
    20_000,
    "Toxiproxy's API to answer",
    100,
  );
  return { client, stop: () => server.stop(5000) };
}

/** A toxic on both directions of a proxy's connections; the returned function removes it. */
export async function addToxic(proxy: Proxy, name: string, type: "latency" | "reset_peer", attributes: object): Promise<() => Promise<void>> {
  const toxics: Toxic<unknown>[] = [];
  for (const stream of ["upstream", "downstream"] as const) {
    toxics.push(await proxy.addToxic({ name: `${name}-${stream}`, type, stream, toxicity: 1, attributes }));
  }
  return async () => {
    for (const toxic of toxics) await toxic.remove();
  };
}
