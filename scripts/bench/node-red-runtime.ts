import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { installPackageInto } from "../lib/node-red-process";

/** What a bench-sink node hands over: "scored" msgs, "failed" msgs from a Catch node, "status" msgs from a Status node. */
export type SinkChannel = "scored" | "failed" | "status";

/** The parts of a msg the benchmark reads. */
export interface SinkMsg {
  sentAt?: number;
  error?: { message: string };
  status?: { fill?: string; text?: string; source?: { id: string } };
}

interface NodeRedApi {
  nodes: { getNode(id: string): { receive(msg: object): void } | null };
  runtime: { flows: { setFlows(opts: { flows: { flows: object[] }; deploymentType: "full" | "nodes" }): Promise<unknown> } };
  init(server: http.Server, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The smallest possible node at the end of a flow, so that the benchmark measures the
 * nodes under test and not their sink. Written into the runtime's nodes folder at start.
 */
const SINK_NODE = `module.exports = function (RED) {
  function BenchSink(config) {
    RED.nodes.createNode(this, config);
    const deliver = globalThis.pythonModelBench;
    this.on("input", (msg, send, done) => {
      deliver(config.channel || "scored", msg);
      done();
    });
  }
  RED.nodes.registerType("bench-sink", BenchSink);
};
`;
const SINK_HTML = `<script type="text/javascript">RED.nodes.registerType("bench-sink", { category: "common", defaults: { channel: { value: "scored" } }, inputs: 1, outputs: 0 });</script>`;

/**
 * A Node-RED runtime embedded in the benchmark process (not node-red-node-test-helper,
 * whose spies make every msg many times slower), with this package and bench-sink
 * installed. Node-RED is a singleton: one per process, shared by every pass.
 */
export class BenchRuntime {
  private readonly listeners = new Map<SinkChannel, (msg: SinkMsg) => void>();

  private constructor(
    private readonly RED: NodeRedApi,
    private readonly server: http.Server,
    private readonly userDir: string,
  ) {}

  static async start(): Promise<BenchRuntime> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "python-model-bench-"));
    installPackageInto(userDir);
    fs.mkdirSync(path.join(userDir, "nodes"));
    fs.writeFileSync(path.join(userDir, "nodes", "bench-sink.js"), SINK_NODE);
    fs.writeFileSync(path.join(userDir, "nodes", "bench-sink.html"), SINK_HTML);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- node-red ships no types for its embedding API
    const RED = require("node-red") as NodeRedApi;
    const server = http.createServer();
    const runtime = new BenchRuntime(RED, server, userDir);
    Object.assign(globalThis, { pythonModelBench: (channel: SinkChannel, msg: SinkMsg) => runtime.listeners.get(channel)?.(msg) });
    RED.init(server, {
      userDir,
      flowFile: "flows.json",
      httpAdminRoot: false,
      httpNodeRoot: false,
      uiHost: "127.0.0.1",
      credentialSecret: false,
      editorTheme: { projects: { enabled: false } },
      logging: { console: { level: "warn" } },
    });
    await RED.start();
    return runtime;
  }

  /** Where the msgs of one sink channel go from now on (one listener per channel). */
  on(channel: SinkChannel, listener: (msg: SinkMsg) => void): void {
    this.listeners.set(channel, listener);
  }

  /** "nodes" starts only the nodes that are new or changed and leaves the others running. */
  async deploy(flows: object[], deploymentType: "full" | "nodes" = "full"): Promise<void> {
    await this.RED.runtime.flows.setFlows({ flows: { flows }, deploymentType });
  }

  node(id: string): { receive(msg: object): void } | null {
    return this.RED.nodes.getNode(id);
  }

  async stop(): Promise<void> {
    try {
      await this.deploy([]);
    } finally {
      await this.RED.stop();
      this.server.close();
      fs.rmSync(this.userDir, { recursive: true, force: true });
    }
  }
}
