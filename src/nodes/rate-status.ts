import type { Node, NodeAPI } from "node-red";
import { shortReason, showStatus, type StatusLook } from "./status";

const INTERVAL_MS = 1000;

/**
 * What a node did and what failed in the last second, for its status: green "N rec/s"
 * while everything succeeds, yellow "N rec/s, M failed/s" while some fail, red
 * "M failed/s: reason" while all do. After a failure the node stays red with it, even
 * when idle, until a second in which records succeed and none fail: a green status
 * never hides failing records. Counting is a field increment per record; the status
 * is drawn once a second at most.
 */
export class RateStatus {
  private succeededCount = 0;
  private failedCount = 0;
  private succeededPerS = 0;
  private failedPerS = 0;
  private lastFailure: string | undefined;
  private extra: Record<string, string | number> = {};
  private readonly timer: NodeJS.Timeout;

  /**
   * `draw` draws the node's status: it shows its own more pressing states, else
   * `view()`, else its idle state; it is called when the view changes. The locale
   * catalogue of `namespace` has the texts status.rate, status.rate-failing,
   * status.failing and status.failed (values rate, failed, error, and those
   * `perInterval` gives, once per interval).
   */
  constructor(
    private readonly RED: NodeAPI,
    private readonly namespace: string,
    private readonly draw: () => void,
    private readonly perInterval: () => Record<string, string | number> = () => ({}),
  ) {
    this.timer = setInterval(() => this.tick(), INTERVAL_MS);
  }

  /** `count` records (a batch msg's) went well. */
  succeeded(count = 1): void {
    this.succeededCount += count;
  }

  /** `reason` as the status should name it (an error's message, or with its type: "ValueError: ..."). */
  failed(reason: Error | string, count = 1): void {
    this.failedCount += count;
    this.lastFailure = typeof reason === "string" ? reason : reason.message;
  }

  /** The status for what happened lately, or undefined when there is nothing to show. */
  view(): { look: StatusLook; text: string } | undefined {
    const { RED, namespace } = this;
    const values = { ...this.extra, rate: this.succeededPerS, failed: this.failedPerS, error: shortReason(this.lastFailure) };
    if (this.failedPerS > 0 && this.succeededPerS > 0) return { look: "busy", text: RED._(`${namespace}.status.rate-failing`, values) };
    if (this.failedPerS > 0) return { look: "error", text: RED._(`${namespace}.status.failing`, values) };
    if (this.lastFailure) return { look: "error", text: RED._(`${namespace}.status.failed`, values) };
    if (this.succeededPerS > 0) return { look: "ok", text: RED._(`${namespace}.status.rate`, values) };
    return undefined;
  }

  /** Draws the view on the node, when there is one; true if it did. */
  show(node: Node): boolean {
    const view = this.view();
    if (view) showStatus(node, view.look, view.text);
    return view !== undefined;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    this.extra = this.perInterval();
    const before = `${this.succeededPerS}/${this.failedPerS}/${this.lastFailure}`;
    this.succeededPerS = Math.round((this.succeededCount * 1000) / INTERVAL_MS);
    this.failedPerS = Math.round((this.failedCount * 1000) / INTERVAL_MS);
    this.succeededCount = 0;
    this.failedCount = 0;
    if (this.succeededPerS > 0 && this.failedPerS === 0) this.lastFailure = undefined;
    // an unchanged view is drawn again while records flow: the values beside the rate may change
    if (this.succeededPerS > 0 || `${this.succeededPerS}/${this.failedPerS}/${this.lastFailure}` !== before) this.draw();
  }
}
