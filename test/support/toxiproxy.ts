import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Toxiproxy, type Proxy, type Toxic } from "toxiproxy-node-client";
import { freePort, startEmbeddedKafka, type EmbeddedKafka } from "../../scripts/lib/embedded-kafka";
import { TOXIPROXY_SERVER } from "../../scripts/lib/install-toxiproxy";
import { spawnTied } from "../../scripts/lib/tied-process";
import { produce } from "./kafka";
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

/** A broker of a test's own behind Toxiproxy: clients given `proxyAddress` go through the proxy; `kafka.brokers` is a direct listener for feeding and reading. */
export interface ProxiedBroker {
  kafka: EmbeddedKafka;
  proxy: Proxy;
  proxyAddress: string;
  stop(): Promise<void>;
}

export async function startProxiedBroker(): Promise<ProxiedBroker> {
  const toxiproxy = await startToxiproxy();
  const proxyAddress = `127.0.0.1:${await freePort()}`;
  const kafka = await startEmbeddedKafka({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "kafka-faults-")), port: 0, controllerPort: 0, proxied: { advertised: proxyAddress } });
  const proxy = await toxiproxy.client.createProxy({ name: "kafka", listen: proxyAddress, upstream: kafka.proxied as string });
  return {
    kafka,
    proxy,
    proxyAddress,
    stop: async () => {
      await kafka.stop();
      fs.rmSync(kafka.dataDir, { recursive: true, force: true });
      await toxiproxy.stop();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Feeds `input` past the proxy (20 records every 250 ms for 16 s: record i has key "i"
 * and value `row(i)`), with 5 s of 500 ms latency from 3 s, then 4 s of connection
 * resets from 9 s, on every connection through the proxy. Resolves with the number of
 * records fed once the feed and the faults are over; `faultsStarted` is called as the first one begins.
 */
export async function feedThroughFaults(broker: ProxiedBroker, input: string, row: (index: number) => unknown, faultsStarted: () => void): Promise<number> {
  const perTick = 20;
  const ticks = 64;
  let sent = 0;
  const feed = (async () => {
    for (let tick = 0; tick < ticks; tick++) {
      await produce(input, Array.from({ length: perTick }, () => ({ key: String(sent), value: JSON.stringify(row(sent++)) })), broker.kafka.brokers);
      await sleep(250);
    }
  })();
  await sleep(3000);
  faultsStarted();
  const removeLatency = await addToxic(broker.proxy, "slow", "latency", { latency: 500, jitter: 0 });
  await sleep(5000);
  await removeLatency();
  await sleep(1000);
  const removeResets = await addToxic(broker.proxy, "resets", "reset_peer", { timeout: 0 });
  await sleep(4000);
  await removeResets();
  await feed;
  return sent;
}
