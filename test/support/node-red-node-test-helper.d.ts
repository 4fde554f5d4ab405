// The part of node-red-node-test-helper's API these tests use (the package ships no types).
declare module "node-red-node-test-helper" {
  import type { Node } from "node-red";

  interface TestNode extends Omit<Node, "on"> {
    receive(msg: object): void;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test listener takes whatever msg it expects
    on(event: string, listener: (msg: any) => void): void;
  }

  interface NodeTestHelper {
    init(nodeRedRuntimePath: string, settings?: object): void;
    load(nodes: unknown[], flow: object[], credentials?: object): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    startServer(): Promise<void>;
    /** supertest against the editor's admin API (after startServer). */
    request(): {
      post(path: string): { send(body: object): Promise<{ status: number; body: unknown }> };
    };
    stopServer(): Promise<void>;
    settings(settings: object): void;
    /** A sinon spy on Node-RED's log, with its level numbers. */
    log(): {
      getCalls(): { args: [{ level: number; id?: string; type?: string; msg: unknown }] }[];
      ERROR: number;
      WARN: number;
      INFO: number;
      DEBUG: number;
    };
  }

  const helper: NodeTestHelper;
  export default helper;
}
