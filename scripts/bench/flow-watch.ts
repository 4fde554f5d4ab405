import type { BenchRuntime } from "./node-red-runtime";

/**
 * Follows a deployed flow through its Status and Catch nodes (wired to bench-sinks on
 * the "status" and "failed" channels): which nodes show green, and the first failure.
 */
export class FlowWatch {
  private readonly fills = new Map<string, string | undefined>();
  failure: string | undefined;

  constructor(runtime: BenchRuntime) {
    runtime.on("status", (msg) => {
      if (msg.status?.source) this.fills.set(msg.status.source.id, msg.status.fill);
    });
    runtime.on("failed", (msg) => (this.failure ??= msg.error?.message ?? "an error without a message"));
  }

  /** Forgets what an earlier deployment showed. */
  reset(): void {
    this.fills.clear();
    this.failure = undefined;
  }

  /** Green is what these nodes show when ready: model loaded, producer connected, consumer in its group. */
  async untilGreen(ids: string[], timeoutMs = 120_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!ids.every((id) => this.fills.get(id) === "green")) {
      if (this.failure) throw new Error(`the flow failed while starting: ${this.failure}`);
      if (performance.now() > deadline) {
        throw new Error(`not ready within ${timeoutMs / 1000} s: ${ids.map((id) => `${id} ${this.fills.get(id) ?? "no status"}`).join(", ")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
